// The command stream over /v1/realtime: correlation by id, per-player order, refusals, and what
// happens to unanswered commands when the connection drops (resent with the same key, or rejected).
import assert from "node:assert/strict";
import { test } from "node:test";
import { LudexError, type WebSocketConstructor } from "@ludex/sdk";
import { client, interceptingWebSocket, serverEnv, newPlayer } from "./helpers.js";

test("commands resolve with their own results; one player's apply in send order", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const ludex = client(env);
  const [ada, bob] = [await newPlayer(ludex, "stream-ada"), await newPlayer(ludex, "stream-bob")];
  const realtime = ludex.realtime({ eventTypes: ["player.levelup"] });
  t.after(() => realtime.close());
  await realtime.connect();

  // Sent without waiting, interleaved: each promise gets its own command's result.
  const adaAwards = [];
  const bobCredits = [];
  for (let i = 1; i <= 10; i++) {
    adaAwards.push(realtime.command({ op: "xp", playerId: ada, amount: i }));
    bobCredits.push(realtime.command({ op: "credit", playerId: bob, currency: "coins", amount: 100 * i }));
  }
  assert.ok(realtime.pendingCommands > 0, "all twenty went before any answer was read");
  const xps = (await Promise.all(adaAwards)).map((result) => result.xp);
  const balances = (await Promise.all(bobCredits)).map((result) => result.balance);
  assert.deepEqual(xps, [1, 3, 6, 10, 15, 21, 28, 36, 45, 55], "running totals: applied in send order");
  assert.deepEqual(balances, [100, 300, 600, 1000, 1500, 2100, 2800, 3600, 4500, 5500]);
  assert.equal(realtime.pendingCommands, 0);

  const refused = await realtime.command({ op: "debit", playerId: ada, currency: "coins", amount: 5 }).catch((error: unknown) => error);
  assert.ok(refused instanceof LudexError);
  assert.deepEqual([refused.status, refused.slug], [409, "insufficient-funds"]);
  const invalid = await realtime.command({ op: "xp", playerId: ada, amount: -1 }).catch((error: unknown) => error);
  assert.ok(invalid instanceof LudexError);
  assert.deepEqual([invalid.status, invalid.slug], [422, "validation-error"]);

  const key = `stream-key-${ada}`;
  const once = await realtime.command({ op: "xp", playerId: ada, amount: 45, idempotencyKey: key });
  const twice = await realtime.command({ op: "xp", playerId: ada, amount: 45, idempotencyKey: key });
  assert.deepEqual(twice, once, "the same key answers the first result");
  assert.equal((await ludex.players.progression(ada)).xp, 100, "and applies once");
});

/**
 * The first command result never reaches the SDK: the socket dies just as it arrives, after the
 * server applied the command. The case an idempotency key exists for.
 */
function losingFirstResult(state: { lost: number; sockets: number }): WebSocketConstructor {
  return interceptingWebSocket((message, deliver, socket) => {
    if (message.type === "hello") state.sockets += 1;
    if (state.lost === 0 && message.type === "result") {
      state.lost += 1;
      socket.terminate();
      return;
    }
    deliver();
  });
}

test("a result lost with its connection: resent on reconnect with the same key, applied once", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const state = { lost: 0, sockets: 0 };
  const ludex = client(env);
  const playerId = await newPlayer(ludex, "stream-lost");
  const realtime = client(env, { WebSocket: losingFirstResult(state) }).realtime({ reconnect: { maxDelayMs: 500 } });
  t.after(() => realtime.close());
  const closes: boolean[] = [];
  realtime.on("close", (info) => closes.push(info.reconnecting));
  await realtime.connect();

  const award = await realtime.command({ op: "xp", playerId, amount: 460 });
  const after = await realtime.command({ op: "xp", playerId, amount: 40 });
  assert.equal(state.lost, 1, "the first result was lost with its socket");
  assert.equal(state.sockets, 2, "and the SDK reconnected");
  assert.deepEqual(closes, [true]);
  assert.deepEqual([award.xp, award.level], [460, 4], "the resend got the first answer (a replay)");
  assert.equal(after.xp, 500);
  assert.equal((await ludex.players.progression(playerId)).xp, 500, "the award applied once");
  const awards = await ludex.events.list({ playerId, type: "player.xp.added" });
  assert.equal(awards.items.length, 2);
});

test("unansweredCommands: 'reject' rejects a lost result with connection-lost; close() rejects the rest", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const state = { lost: 0, sockets: 0 };
  const ludex = client(env);
  const playerId = await newPlayer(ludex, "stream-reject");
  const realtime = client(env, { WebSocket: losingFirstResult(state) }).realtime({
    unansweredCommands: "reject",
    reconnect: { maxDelayMs: 500 },
  });
  t.after(() => realtime.close());
  await realtime.connect();
  const lost = await realtime.command({ op: "xp", playerId, amount: 10 }).catch((error: unknown) => error);
  assert.ok(lost instanceof LudexError);
  assert.deepEqual([lost.status, lost.slug], [0, "connection-lost"]);
  // Its fate was unknown: here it did apply (the server answered; the socket lost the answer).
  assert.equal((await ludex.players.progression(playerId)).xp, 10);
  const next = await realtime.command({ op: "xp", playerId, amount: 5 });
  assert.equal(next.xp, 15, "the subscription reconnected and takes commands again");

  const pending = realtime.command({ op: "xp", playerId, amount: 1 });
  realtime.close();
  const closed = await pending.catch((error: unknown) => error);
  assert.ok(closed instanceof LudexError);
  assert.equal(closed.slug, "realtime-closed");
  const late = await realtime.command({ op: "xp", playerId, amount: 1 }).catch((error: unknown) => error);
  assert.ok(late instanceof LudexError && late.slug === "realtime-closed");
});
