// Realtime against the real /v1/realtime, last in the run because one test restarts the server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LudexError, type CloseInfo, type LudexEvent, type OpenInfo } from "@ludex/sdk";
import { client, restartServer, serverEnv, uniqueId, newPlayer, waitFor } from "./helpers.js";

test("the events of one award arrive in order, through on('event') and for await", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const ludex = client(env);
  const playerId = uniqueId("live");
  const realtime = ludex.realtime({ eventTypes: ["player.*"] });
  const heard: LudexEvent[] = [];
  realtime.on("event", (event) => heard.push(event));
  await realtime.connect();
  await ludex.players.create({ playerId, username: "live" });
  await ludex.players.awardXp(playerId, { amount: 460 });

  const iterated: string[] = [];
  for await (const event of realtime) {
    if (event.playerId !== playerId) continue;
    iterated.push(event.type);
    if (event.type === "player.levelup") break; // closes the subscription
  }
  assert.deepEqual(iterated.slice(0, 2), ["player.created", "player.xp.added"]);
  assert.equal(iterated.at(-1), "player.levelup");
  const rest = await ludex.events.list({ playerId });
  const expected = rest.items.filter((event) => event.type.startsWith("player.")).map((event) => event.id);
  assert.deepEqual(heard.filter((event) => event.playerId === playerId).map((event) => event.id).slice(0, iterated.length), expected.slice(0, iterated.length));
});

test("refused credentials end the subscription with a 403 LudexError and no reconnect", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const realtime = client(env, { apiKey: "ldx_wrong_wrong" }).realtime({ eventTypes: ["*"] });
  const closes: CloseInfo[] = [];
  const errors: LudexError[] = [];
  realtime.on("close", (info) => closes.push(info));
  realtime.on("error", (error) => errors.push(error));
  const failure = await realtime.connect().catch((error: unknown) => error);
  assert.ok(failure instanceof LudexError);
  assert.equal(failure.status, 403);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.deepEqual(closes.map((info) => [info.code, info.reconnecting]), [[4403, false]]);
  assert.deepEqual(errors.map((error) => [error.status, error.slug]), [[403, "invalid_credentials"]]);
});

test("across a server restart every event arrives exactly once, none lost", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const ludex = client(env, { retry: { maxElapsedMs: 120_000, maxAttempts: 60 } });
  const playerId = await newPlayer(ludex, "resume");

  const realtime = ludex.realtime({ eventTypes: ["wallet.*"], reconnect: { maxDelayMs: 2_000 } });
  t.after(() => realtime.close());
  const delivered: LudexEvent[] = [];
  const opens: OpenInfo[] = [];
  realtime.on("event", (event) => {
    if (event.playerId === playerId) delivered.push(event);
  });
  realtime.on("open", (info) => opens.push(info));
  await realtime.connect();

  const credit = (amount: number) => ludex.wallet.credit(playerId, { currency: "coins", amount });
  for (const amount of [1, 2, 3]) await credit(amount); // before
  await waitFor("the events before the restart", () => (delivered.length === 3 ? true : undefined));

  await restartServer(env);
  const reconnectsBefore = opens.length;
  // While the SDK is still backing off: events it must fetch with `since` when it comes back.
  for (const amount of [4, 5, 6]) await credit(amount);
  await waitFor("the subscription to come back", () => (opens.length > reconnectsBefore || delivered.length >= 6 ? true : undefined), 60_000);
  for (const amount of [7, 8, 9]) await credit(amount); // after
  await waitFor("all nine events", () => (delivered.length >= 9 ? true : undefined), 60_000);
  await new Promise((resolve) => setTimeout(resolve, 1000)); // room for a duplicate to show up

  assert.deepEqual(delivered.map((event) => event.data.amount), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(new Set(delivered.map((event) => event.id)).size, 9, "no event twice");
  const stored: LudexEvent[] = [];
  for await (const event of ludex.events.iterate({ playerId, type: "wallet.credited" })) stored.push(event);
  assert.deepEqual(delivered.map((event) => event.id), stored.map((event) => event.id), "the same ids, in the store's order");
  assert.ok(opens.length >= 2, "it reconnected");
  assert.equal(opens.at(-1)?.since !== undefined, true, "and resumed with since");
  t.diagnostic(`opens: ${JSON.stringify(opens)}`);
});
