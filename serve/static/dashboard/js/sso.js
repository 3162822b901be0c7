// @ts-check
// The tenant's single sign-on (docs/BACKOFFICE.md, "Sign in with the tenant's OIDC provider"):
// its OpenID Connect provider, the email domains it may sign in and the role new members get
// (`GET`/`PUT`/`DELETE /v1/client/oidc`). The client secret is write-only: the API says only
// whether one is stored.
import { h, clear, put } from "./dom.js";
import { api, ApiError } from "./api.js";
import { field, input, select, button, showError, notice, confirmAction, clearFieldErrors, card, badge } from "./ui.js";

/**
 * @typedef {{ displayName: string, issuer: string, clientId: string, hasClientSecret: boolean, allowedDomains: string[],
 *   role: string, projects: string[], enabled: boolean, redirectUri: string, startUrl: string }} OidcProvider
 */

export async function singleSignOn(ctx) {
  const { main, tenant, can } = ctx;
  const writable = can("members:write", tenant);
  const messages = h("div");
  const body = h("div", {}, h("p", { class: "hint" }, "Loading…"));

  /** @param {OidcProvider | null} provider */
  function draw(provider) {
    const name = input({ required: true, maxlength: 60, value: provider ? provider.displayName : "", readonly: !writable });
    const issuer = input({ type: "url", required: true, maxlength: 512, class: "mono", placeholder: "https://login.studio.example", value: provider ? provider.issuer : "", readonly: !writable });
    const clientId = input({ required: true, maxlength: 255, class: "mono", value: provider ? provider.clientId : "", readonly: !writable });
    const secret = input({ type: "password", maxlength: 1024, autocomplete: "new-password", placeholder: provider && provider.hasClientSecret ? "stored (leave empty to keep it)" : "", readonly: !writable });
    const domains = h("textarea", { rows: 3, class: "mono", spellcheck: "false", placeholder: "studio.example", readonly: !writable });
    domains.value = provider ? provider.allowedDomains.join("\n") : "";
    const role = select([["analyst", "Analyst"], ["developer", "Developer"], ["owner", "Owner"]], { value: provider ? provider.role : "analyst", disabled: !writable });
    const enabled = h("input", { type: "checkbox", id: "sso-enabled", checked: provider ? provider.enabled : true, disabled: !writable });
    const errors = h("div");
    const form = h("form", { novalidate: true });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearFieldErrors(form);
      clear(errors);
      const change = {
        displayName: name.value.trim(),
        issuer: issuer.value.trim(),
        clientId: clientId.value.trim(),
        allowedDomains: domains.value.split(/[\s,]+/).map((d) => d.trim()).filter(Boolean),
        role: role.value,
        projects: provider ? provider.projects : ["*"],
        enabled: enabled.checked,
      };
      if (secret.value) change.clientSecret = secret.value;
      try {
        draw(await api("/v1/client/oidc", { method: "PUT", tenant, body: change }));
        notice(messages, "Single sign-on saved.");
      } catch (error) {
        showError(errors, error, form);
      }
    });
    put(
      form,
      field("Button name", name, { path: "displayName", hint: "The sign-in page shows “Sign in with <name>”." }),
      field("Issuer", issuer, { path: "issuer", hint: "Its discovery document is at <issuer>/.well-known/openid-configuration." }),
      field("Client ID", clientId, { path: "clientId" }),
      field("Client secret", secret, { path: "clientSecret", hint: "Stored sealed and never shown again." }),
      field("Allowed email domains", domains, { path: "allowedDomains", hint: "One per line, exact: only verified emails of these domains sign in." }),
      field("Role of new members", role, { path: "role", hint: "People signing in for the first time join with this role." }),
      h("label", { class: "check" }, enabled, h("span", {}, "Enabled")),
      errors,
      writable
        ? h(
            "div",
            { class: "row" },
            h("button", { type: "submit", class: "primary" }, "Save single sign-on"),
            provider ? button("Remove", remove, { class: "danger ghost" }) : null,
          )
        : null,
    );
    put(
      clear(body),
      provider
        ? h("p", {}, "Register this redirect URI at the provider: ", h("code", { class: "data" }, provider.redirectUri), " ", provider.enabled ? badge("enabled", "good") : badge("disabled", "neutral"))
        : h("p", { class: "hint" }, "No provider yet: people sign in with their Ludex password only."),
      form,
    );
  }

  async function remove() {
    if (!(await confirmAction("Remove single sign-on? Its button disappears; sessions already signed in go on.", "Remove"))) return;
    try {
      await api("/v1/client/oidc", { method: "DELETE", tenant });
      draw(null);
      notice(messages, "Single sign-on removed.");
    } catch (error) {
      showError(messages, error);
    }
  }

  put(main, messages, card("OpenID Connect provider", body));
  try {
    draw(await api("/v1/client/oidc", { tenant }));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) draw(null);
    else showError(body, error);
  }
}
