// Exactly-once retries: a connection dropped after the server acted, and 429 with Retry-After.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LudexError, type RetryInfo } from "@ludex/sdk";
import { admin, client, tcpProxy, serverEnv, uniqueId, newPlayer } from "./helpers.js";

test("a connection dropped mid-request is retried with the same key and the award lands once", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const direct = client(env);
  const playerId = await newPlayer(direct, "drop");

  const proxy = await tcpProxy(new URL(env.baseUrl), { dropFirstAnswer: true });
  t.after(() => proxy.close());
  const retries: RetryInfo[] = [];
  const throughProxy = client(env, { baseUrl: proxy.url, onRetry: (info) => retries.push(info) });
  const award = await throughProxy.players.awardXp(playerId, { amount: 460, reason: "dropped" });

  assert.equal(proxy.dropped(), 1, "the first attempt's answer was cut off");
  assert.equal(retries.length, 1);
  assert.equal(retries[0]?.status, undefined, "retried for a network error, not a status");
  assert.match(retries[0]?.idempotencyKey ?? "", /^[0-9a-f-]{36}$/);
  assert.deepEqual([award.xp, award.level], [460, 4], "the retry got the first attempt's answer (a replay)");
  assert.deepEqual(await direct.players.progression(playerId), { xp: 460, level: 4, currentLevelXp: 450, nextLevelXp: 700 });
  const awards = await direct.events.list({ playerId, type: "player.xp.added" });
  assert.equal(awards.items.length, 1, "one player.xp.added event: applied exactly once");
});

test("without retries a dropped connection surfaces as LudexError network-error", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const playerId = await newPlayer(client(env), "noretry");
  const proxy = await tcpProxy(new URL(env.baseUrl), { dropFirstAnswer: true });
  t.after(() => proxy.close());
  const error = await client(env, { baseUrl: proxy.url, retry: false })
    .wallet.credit(playerId, { currency: "coins", amount: 7 })
    .catch((caught: unknown) => caught);
  assert.ok(error instanceof LudexError);
  assert.deepEqual([error.status, error.slug], [0, "network-error"]);
});

test("429: the SDK waits out Retry-After and succeeds; with retries off it throws rate-limited", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const created = await admin(env).apiKeys.create(env.projectId, {
    name: uniqueId("slow-key"),
    scopes: ["players:read", "players:write", "economy:write"],
    rateLimitPerSecond: 1,
  });
  const retries: RetryInfo[] = [];
  const limited = client(env, { apiKey: created.apiKey, onRetry: (info) => retries.push(info) });
  const playerId = await newPlayer(limited, "rate");

  const started = Date.now();
  const results = await Promise.all(
    Array.from({ length: 5 }, () => limited.wallet.credit(playerId, { currency: "coins", amount: 1 })),
  );
  const elapsed = Date.now() - started;
  assert.equal(results.length, 5);
  const throttled = retries.filter((info) => info.status === 429);
  assert.ok(throttled.length >= 1, "some calls were throttled");
  for (const info of throttled) {
    assert.ok(info.retryAfterMs !== undefined && info.retryAfterMs >= 1000, `Retry-After was sent: ${JSON.stringify(info)}`);
    assert.ok(info.delayMs >= info.retryAfterMs, "the wait honours Retry-After as a minimum");
  }
  assert.ok(elapsed >= 1000, `the calls took ${elapsed} ms: they waited`);
  const balance = (await client(env).wallet.history(playerId, { currency: "coins" })).items.length;
  assert.equal(balance, 5, "each credit applied once");

  const impatient = client(env, { apiKey: created.apiKey, retry: false });
  const outcomes = await Promise.allSettled(
    Array.from({ length: 6 }, () => impatient.players.get(playerId)),
  );
  const refusals = outcomes.filter((outcome) => outcome.status === "rejected").map((outcome) => outcome.reason as unknown);
  assert.ok(refusals.length >= 1, "a burst past the limit is refused");
  for (const refusal of refusals) {
    assert.ok(refusal instanceof LudexError);
    assert.deepEqual([refusal.status, refusal.slug], [429, "rate-limited"]);
  }
});
