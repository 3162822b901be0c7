// LudexAdmin against the real backoffice: sign-in, a refresh shared by concurrent calls, API keys.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LudexAdmin, LudexError, type Tokens } from "@ludex/sdk";
import { client, serverEnv, uniqueId, newPlayer } from "./helpers.js";

test("concurrent calls share one refresh (a second use of a spent refresh token would end the session)", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const issued: Tokens[] = [];
  const backoffice = new LudexAdmin({
    baseUrl: env.baseUrl,
    tenantId: env.tenantId,
    email: env.adminEmail,
    password: env.adminPassword,
    onTokens: (tokens) => issued.push(tokens),
    // Every token counts as about to expire, so every burst of calls must refresh first.
    refreshBeforeExpiryMs: 24 * 3600 * 1000,
  });
  await backoffice.login();
  for (let round = 1; round <= 3; round++) {
    const answers = await Promise.all(Array.from({ length: 6 }, () => backoffice.me()));
    assert.equal(answers.length, 6);
    assert.equal(issued.length, 1 + round, `round ${round}: one refresh for six concurrent calls`);
  }
  assert.equal(new Set(issued.map((tokens) => tokens.refreshToken)).size, issued.length);
  const projects = await backoffice.projects.list();
  assert.ok(projects.items.some((project) => project.id === env.projectId));
});

test("API keys: create, use, list, revoke; economy: read, install, refuse a bad document", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const backoffice = new LudexAdmin({ baseUrl: env.baseUrl, tenantId: env.tenantId, email: env.adminEmail, password: env.adminPassword });
  const name = uniqueId("script-key");
  const created = await backoffice.apiKeys.create(env.projectId, { name, scopes: ["players:read", "players:write"] });
  assert.match(created.apiKey, /^ldx_/);
  const ludex = client(env, { apiKey: created.apiKey });
  const playerId = await newPlayer(ludex, "keyed");
  const scope = await ludex.wallet.credit(playerId, { currency: "coins", amount: 1 }).catch((error: unknown) => error);
  assert.ok(scope instanceof LudexError);
  assert.deepEqual([scope.status, scope.slug], [403, "insufficient-scope"]);

  const listed = await backoffice.apiKeys.list(env.projectId);
  assert.ok(JSON.stringify(listed).includes(name));
  assert.ok(!JSON.stringify(listed).includes(created.apiKey), "lists never show the secret");
  await backoffice.apiKeys.revoke(env.projectId, created.id);
  const revoked = await ludex.players.get(playerId).catch((error: unknown) => error);
  assert.ok(revoked instanceof LudexError);
  assert.equal(revoked.status, 401);

  const economy = await backoffice.economy.get(env.projectId);
  assert.ok(economy.version >= 1);
  assert.ok(JSON.stringify(economy.document).includes("potion-pack"));
  const reinstalled = await backoffice.economy.put(env.projectId, economy.document);
  assert.equal(reinstalled.version, economy.version + 1);
  const invalid = await backoffice.economy.put(env.projectId, { ...economy.document, currencies: "coins" }).catch((error: unknown) => error);
  assert.ok(invalid instanceof LudexError);
  assert.deepEqual([invalid.status, invalid.slug], [422, "invalid-definition"]);
  assert.ok(Array.isArray(invalid.problem.errors) && invalid.problem.errors.length > 0);
  assert.equal((await backoffice.economy.get(env.projectId)).version, reinstalled.version, "a refused document changes nothing");
});

test("a wrong password is a LudexError, not a hang or a retry loop", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const backoffice = new LudexAdmin({ baseUrl: env.baseUrl, tenantId: env.tenantId, email: env.adminEmail, password: "not-the-password" });
  const error = await backoffice.me().catch((caught: unknown) => caught);
  assert.ok(error instanceof LudexError);
  assert.equal(error.status, 401);
});
