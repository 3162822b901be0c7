// Realtime against the real /v1/realtime, last in the run because one test restarts the server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LudexError, type CloseInfo, type LudexEvent, type OpenInfo, type WebSocketConstructor } from "@ludex/sdk";
import { client, interceptingWebSocket, restartServer, tcpProxy, serverEnv, uniqueId, newPlayer, waitFor } from "./helpers.js";

test("the events of one award arrive in order, through on('event') and for await", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const ludex = client(env);
  const playerId = uniqueId("live");
  const realtime = ludex.realtime({ eventTypes: ["player.*"] });
  const heard: LudexEvent[] = [];
  realtime.on("event", (event) => heard.push(event));
  const events = realtime.events(); // buffers from here on
  await realtime.connect();
  await ludex.players.create({ playerId, username: "live" });
  await ludex.players.awardXp(playerId, { amount: 460 });

  const iterated: string[] = [];
  for await (const event of events) {
    if (event.playerId !== playerId) continue;
    iterated.push(event.type === "player.levelup" ? `levelup ${event.data.level}` : event.type);
    if (event.type === "player.level.updated") break; // the award's last event; closes the subscription
  }
  assert.deepEqual(iterated, ["player.created", "player.xp.added", "levelup 2", "levelup 3", "levelup 4", "player.level.updated"]);
  const rest = await ludex.events.list({ playerId });
  const expected = rest.items.filter((event) => event.type.startsWith("player.")).map((event) => event.id);
  const heardIds = heard.filter((event) => event.playerId === playerId).map((event) => event.id);
  assert.deepEqual(heardIds, expected, "on('event') heard the same events, with the store's ids, in its order");
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

/** Every event message reaches the SDK twice, as through a faulty relay. */
function duplicatingWebSocket(counter: { events: number }): WebSocketConstructor {
  return interceptingWebSocket((message, deliver) => {
    deliver();
    if (message.type === "event") {
      counter.events += 1;
      deliver();
    }
  });
}

test("an event received twice is delivered once", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const counter = { events: 0 };
  const ludex = client(env, { WebSocket: duplicatingWebSocket(counter) });
  const playerId = await newPlayer(ludex, "twice");
  const realtime = ludex.realtime({ eventTypes: ["wallet.credited"] });
  t.after(() => realtime.close());
  const delivered: string[] = [];
  realtime.on("event", (event) => {
    if (event.playerId === playerId) delivered.push(event.id);
  });
  await realtime.connect();
  for (const amount of [1, 2, 3]) await ludex.wallet.credit(playerId, { currency: "coins", amount });
  await waitFor("three events", () => (delivered.length >= 3 ? true : undefined));
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.ok(counter.events >= 3, "the relay did send duplicates");
  assert.equal(delivered.length, 3);
  assert.equal(new Set(delivered).size, 3);
});

test("across a server restart every event arrives exactly once, none lost", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const ludex = client(env, { retry: { maxElapsedMs: 120_000, maxAttempts: 60 } });
  const playerId = await newPlayer(ludex, "resume");
  // Realtime goes through a proxy that can refuse connections: it keeps the SDK out until the
  // events "during" the outage exist, so they can only arrive through the resume with `since`.
  const gate = await tcpProxy(new URL(env.baseUrl));
  t.after(() => gate.close());
  const realtime = client(env, { baseUrl: gate.url }).realtime({ eventTypes: ["wallet.*"], reconnect: { maxDelayMs: 1_000 } });
  t.after(() => realtime.close());
  const delivered: LudexEvent[] = [];
  const opens: OpenInfo[] = [];
  const closes: CloseInfo[] = [];
  realtime.on("event", (event) => {
    if (event.playerId === playerId) delivered.push(event);
  });
  realtime.on("open", (info) => opens.push(info));
  realtime.on("close", (info) => closes.push(info));
  await realtime.connect();

  const credit = (amount: number) => ludex.wallet.credit(playerId, { currency: "coins", amount });
  for (const amount of [1, 2, 3]) await credit(amount); // before
  await waitFor("the events before the restart", () => (delivered.length === 3 ? true : undefined));
  const lastBefore = delivered[2]!.id;

  gate.refuse(true);
  await restartServer(env);
  for (const amount of [4, 5, 6]) await credit(amount); // during: the SDK is still shut out
  assert.equal(opens.length, 1, "not reconnected yet");
  assert.equal(delivered.length, 3);
  gate.refuse(false);
  await waitFor("the resumed subscription", () => (opens.length === 2 ? true : undefined), 30_000);
  for (const amount of [7, 8, 9]) await credit(amount); // after
  await waitFor("all nine events", () => (delivered.length >= 9 ? true : undefined), 30_000);
  await new Promise((resolve) => setTimeout(resolve, 1000)); // room for a duplicate to show up

  assert.deepEqual(delivered.map((event) => event.data.amount), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(new Set(delivered.map((event) => event.id)).size, 9, "no event twice");
  const stored: LudexEvent[] = [];
  for await (const event of ludex.events.iterate({ playerId, type: "wallet.credited" })) stored.push(event);
  assert.deepEqual(delivered.map((event) => event.id), stored.map((event) => event.id), "the same ids, in the store's order");
  assert.equal(opens[1]?.since, lastBefore, "resumed after the last event delivered");
  assert.ok(closes.length >= 2 && closes.every((info) => info.reconnecting), "it kept trying while the server was away");
  t.diagnostic(`reconnect attempts while away: ${opens[1]?.reconnects}`);
});
