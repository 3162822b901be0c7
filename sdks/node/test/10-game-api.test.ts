// The game API surface against the real `ludex serve` the harness started.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { LudexError, type LudexEvent } from "@ludex/sdk";
import { PACKAGE_DIR, client, serverEnv, uniqueId, newPlayer } from "./helpers.js";

test("the README quick start prints level=4 xp=460", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const tsx = path.join(PACKAGE_DIR, "node_modules/tsx/dist/cli.mjs");
  const { stdout } = await promisify(execFile)(process.execPath, [tsx, "examples/quickstart.ts"], {
    cwd: PACKAGE_DIR,
    env: {
      ...process.env,
      LUDEX_BASE_URL: env.baseUrl,
      LUDEX_TENANT_ID: env.tenantId,
      LUDEX_PROJECT_ID: env.projectId,
      LUDEX_API_KEY: env.apiKey,
    },
  });
  assert.equal(stdout.trim(), "level=4 xp=460");
});

test("players: create, get, list, iterate, update, awardXp, progression, delete", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const ludex = client(env);
  const username = uniqueId("user");
  const ids = [uniqueId("p"), uniqueId("p"), uniqueId("p")];
  for (const playerId of ids) {
    const created = await ludex.players.create({ playerId, username, metadata: { team: "red" } });
    assert.equal(created.playerId, playerId);
  }
  const page = await ludex.players.list({ username, limit: 2 });
  assert.equal(page.items.length, 2);
  assert.ok(page.nextCursor, "a second page exists");
  const all = [];
  for await (const player of ludex.players.iterate({ username, limit: 2 })) all.push(player.playerId);
  assert.deepEqual(all.sort(), [...ids].sort());

  const [first] = ids as [string];
  const updated = await ludex.players.update(first, { username: `${username}-2`, metadata: { team: "blue" } });
  assert.equal(updated.username, `${username}-2`);
  assert.deepEqual((await ludex.players.get(first)).metadata, { team: "blue" });

  const award = await ludex.players.awardXp(first, { amount: 120, reason: "match" });
  assert.deepEqual([award.xp, award.level, award.leveledUp], [120, 2, true]);
  assert.deepEqual(await ludex.players.progression(first), { xp: 120, level: 2, currentLevelXp: 100, nextLevelXp: 250 });

  await ludex.players.delete(first);
  await assert.rejects(ludex.players.get(first), (error: unknown) => error instanceof LudexError && error.status === 404);
});

test("the same idempotency key applies a write once; without one, each call applies", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const ludex = client(env);
  const playerId = await newPlayer(ludex, "idem");
  for (let i = 0; i < 3; i++) await ludex.wallet.credit(playerId, { currency: "coins", amount: 10 }, { idempotencyKey: "gift-1" });
  await ludex.wallet.credit(playerId, { currency: "coins", amount: 1 });
  await ludex.wallet.credit(playerId, { currency: "coins", amount: 1 });
  const wallet = await ludex.wallet.get(playerId);
  assert.equal(JSON.stringify(wallet).includes('"coins"'), true);
  const history = await ludex.wallet.history(playerId, { currency: "coins" });
  assert.deepEqual(history.items.map((entry) => entry.delta), [10, 1, 1]);
});

test("wallet, items, counters, quests, achievements, store and batch commands", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const ludex = client(env);
  const playerId = await newPlayer(ludex, "eco");

  const credited = await ludex.wallet.credit(playerId, { currency: "coins", amount: 500, reason: "bonus" });
  assert.equal(credited.balance, 500);
  assert.equal((await ludex.wallet.debit(playerId, { currency: "coins", amount: 20 })).balance, 480);

  assert.equal((await ludex.items.grant(playerId, { itemId: "potion", quantity: 3 })).quantity, 3);
  assert.equal((await ludex.items.consume(playerId, { itemId: "potion", quantity: 1 })).quantity, 2);
  const inventory = await ludex.inventory.get(playerId);
  assert.ok(JSON.stringify(inventory).includes('"potion"'));

  const counted = await ludex.counters.increment(playerId, "wins", { by: 1 });
  assert.equal(counted.value, 1);
  assert.ok(JSON.stringify(counted.unlocked).includes("first-win"), "the first win unlocks first-win in the same command");
  assert.ok(JSON.stringify(await ludex.achievements.get(playerId)).includes("first-win"));
  assert.equal((await ludex.counters.reset(playerId, "wins")).value, 0);
  assert.ok(JSON.stringify(await ludex.counters.get(playerId)).includes("wins"));

  await ludex.quests.progress(playerId, "daily-battles", { objectiveId: "battles", by: 3 });
  assert.ok(JSON.stringify(await ludex.quests.get(playerId)).includes("daily-battles"));

  const catalog = await ludex.store.catalog();
  assert.ok(JSON.stringify(catalog).includes("potion-pack"));
  assert.equal((await ludex.store.sku("starter-bundle")).sku, "starter-bundle");
  const receipt = await ludex.store.purchase(playerId, { sku: "potion-pack", quantity: 1 });
  assert.equal((await ludex.store.receipt(playerId, receipt.purchaseId)).purchaseId, receipt.purchaseId);
  // 500 credited - 20 debited + 50 quest reward - 100 for the pack
  assert.equal((await ludex.wallet.history(playerId, { currency: "coins" })).items.reduce((sum, entry) => sum + entry.delta, 0), 430);

  const results = await ludex.commands.batch([
    { op: "xp", playerId, amount: 50 },
    { op: "credit", playerId, currency: "coins", amount: 10 },
    { op: "debit", playerId, currency: "gems", amount: 1 },
  ]);
  assert.deepEqual(results.results.map((result) => [result.ok, result.status]), [[true, 200], [true, 200], [false, 409]]);
  assert.ok(results.results[2]?.problem?.type.endsWith("/insufficient-funds"));
});

test("events.list pages and events.iterate walks every page in order", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const ludex = client(env);
  const playerId = await newPlayer(ludex, "ev");
  for (let i = 1; i <= 5; i++) await ludex.wallet.credit(playerId, { currency: "coins", amount: i });
  const firstPage = await ludex.events.list({ playerId, type: "wallet.credited", limit: 2 });
  assert.equal(firstPage.items.length, 2);
  assert.ok(firstPage.nextCursor);
  const seen: LudexEvent[] = [];
  for await (const event of ludex.events.iterate({ playerId, type: ["wallet.credited", "player.created"], limit: 2 })) seen.push(event);
  assert.deepEqual(seen.map((event) => event.type), ["player.created", ...Array(5).fill("wallet.credited")]);
  assert.deepEqual(seen.slice(1).map((event) => event.data.amount), [1, 2, 3, 4, 5]);
  assert.equal(new Set(seen.map((event) => event.id)).size, 6);
});

test("problem answers become LudexError with status, slug, detail, problem and requestId", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const ludex = client(env);
  const playerId = await newPlayer(ludex, "err");
  await ludex.wallet.credit(playerId, { currency: "coins", amount: 5 });

  const short = await ludex.wallet.debit(playerId, { currency: "coins", amount: 6 }).catch((error: unknown) => error);
  assert.ok(short instanceof LudexError);
  assert.equal(short.status, 409);
  assert.equal(short.slug, "insufficient-funds");
  assert.equal(short.problem.status, 409);
  assert.ok(short.detail.length > 0);
  assert.match(short.requestId ?? "", /\S/);
  assert.equal((await ludex.wallet.history(playerId)).items.length, 1, "the failed debit changed nothing");

  const missing = await ludex.players.get(uniqueId("nobody")).catch((error: unknown) => error);
  assert.ok(missing instanceof LudexError);
  assert.deepEqual([missing.status, missing.slug], [404, "player-not-found"]);

  const invalid = await ludex.wallet.credit(playerId, { currency: "coins", amount: -1 }).catch((error: unknown) => error);
  assert.ok(invalid instanceof LudexError);
  assert.equal(invalid.status, 422);
  assert.ok(Array.isArray(invalid.problem.errors) && invalid.problem.errors.length > 0);

  const stranger = client(env, { apiKey: "ldx_nope_nope" });
  const refused = await stranger.players.get(playerId).catch((error: unknown) => error);
  assert.ok(refused instanceof LudexError);
  assert.equal(refused.status, 401);
});

test("the CommonJS build works the same: require('@ludex/sdk')", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const sdk = createRequire(import.meta.url)("@ludex/sdk") as typeof import("@ludex/sdk");
  const ludex = new sdk.Ludex({ baseUrl: env.baseUrl, tenantId: env.tenantId, projectId: env.projectId, apiKey: env.apiKey });
  const playerId = uniqueId("cjs");
  assert.equal((await ludex.players.create({ playerId, username: "cjs" })).playerId, playerId);
  const error = await ludex.players.get(uniqueId("nobody")).catch((caught: unknown) => caught);
  assert.ok(error instanceof sdk.LudexError);
  assert.equal((error as InstanceType<typeof sdk.LudexError>).slug, "player-not-found");
  const realtime = ludex.realtime({ eventTypes: ["player.created"] }); // loads `ws` through require
  const opened = new Promise<string | undefined>((resolve) => realtime.on("open", (info) => resolve(info.connectionId)));
  await realtime.connect();
  assert.match((await opened) ?? "", /\S/);
  realtime.close();
});
