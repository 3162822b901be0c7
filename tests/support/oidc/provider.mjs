// A real OpenID Provider (panva's oidc-provider) for the dashboard OIDC sign-in tests: one
// confidential client, the provider's development login and consent pages (any login is
// accepted; the login is the account's email), ephemeral signing keys. Tests only.
//
//   node provider.mjs <port> <client id> <client secret> <redirect uri> [<redirect uri>...]
//
// Logins starting with "unverified" get `email_verified: false`. A second client, "<client id>-hs256"
// (same secret), gets ID tokens signed HS256 with its secret, which Ludex must refuse. Prints
// "ready <issuer>" once listening.
import Provider from "oidc-provider";

const [port, clientId, clientSecret, ...redirectUris] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    { client_id: clientId, client_secret: clientSecret, redirect_uris: redirectUris, response_types: ["code"], grant_types: ["authorization_code"] },
    { client_id: `${clientId}-hs256`, client_secret: clientSecret, redirect_uris: redirectUris, response_types: ["code"], grant_types: ["authorization_code"], id_token_signed_response_alg: "HS256" },
  ],
  enabledJWA: { idTokenSigningAlgValues: ["RS256", "PS256", "ES256", "EdDSA", "HS256"] },
  claims: { openid: ["sub"], email: ["email", "email_verified"] },
  cookies: { keys: ["ludex-tests-only-cookie-key"] },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: !id.startsWith("unverified") };
      },
    };
  },
});

provider.listen(Number(port), "127.0.0.1", () => {
  console.log(`ready ${issuer}`);
});
