// Leaderboards and feature flags against the real `ludex serve` (the demo economy's boards and flags).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { LudexError } from "@ludex/sdk";
import { client, serverEnv, uniqueId, newPlayer } from "./helpers.js";

test("leaderboards: list, submit (exactly once), page with cursor, iterate, aroundMe", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const ludex = client(env);
  const boards = await ludex.leaderboards.list();
  assert.deepEqual(
    boards.items.map((board) => board.id).sort(),
    ["high-score", "weekly-wins", "xp-all-time"],
  );
  // Scores far above anything else in this run, so the five are the board's top five.
  const base = 9_000_000_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
  const players: string[] = [];
  for (let i = 0; i < 5; i++) players.push(await newPlayer(ludex, `board${i}`));
  for (const [i, playerId] of players.entries()) {
    const submitted = await ludex.leaderboards.submit("high-score", { playerId, score: base + i, metadata: { run: i } });
    assert.deepEqual([submitted.boardId, submitted.playerId, submitted.score], ["high-score", playerId, base + i]);
    assert.equal(submitted.rank, 1, "each new best is the top score");
  }
  // `best`: a lower score leaves the player's score as it was; the same key twice counts once.
  const lower = await ludex.leaderboards.submit("high-score", { playerId: players[4]!, score: 1 });
  assert.deepEqual([lower.score, lower.rank], [base + 4, 1]);
  const key = uniqueId("score");
  const first = await ludex.leaderboards.submit("high-score", { playerId: players[0]!, score: base + 10 }, { idempotencyKey: key });
  const again = await ludex.leaderboards.submit("high-score", { playerId: players[0]!, score: base + 10 }, { idempotencyKey: key });
  assert.deepEqual(again, first, "a replay answers the first answer");
  assert.deepEqual([first.score, first.rank], [base + 10, 1]);
  const expected = [players[0], players[4], players[3], players[2], players[1]];

  const page = await ludex.leaderboards.page("high-score", { limit: 2 });
  assert.equal(page.period.id, first.periodId);
  assert.deepEqual(page.items.map((entry) => [entry.rank, entry.playerId]), [[1, expected[0]], [2, expected[1]]]);
  assert.equal(page.items[0]?.username, "board0");
  assert.ok(page.nextCursor, "a second page exists");
  const next = await ludex.leaderboards.page("high-score", { limit: 2, cursor: page.nextCursor! });
  assert.deepEqual(next.items.map((entry) => entry.rank), [3, 4]);

  const iterated = [];
  for await (const entry of ludex.leaderboards.iterate("high-score", { limit: 2 })) {
    iterated.push(entry.playerId);
    if (iterated.length === 5) break;
  }
  assert.deepEqual(iterated, expected);

  const standing = await ludex.leaderboards.aroundMe("high-score", players[3]!, { around: 1 });
  assert.deepEqual([standing.rank, standing.score], [3, base + 3]);
  assert.deepEqual(standing.around.map((entry) => entry.playerId), [players[4], players[3], players[2]]);
  const top = await ludex.leaderboards.aroundMe("high-score", players[0]!, { around: 2 });
  assert.deepEqual(top.around.map((entry) => entry.rank), [1, 2, 3], "nothing above the top");
});

test("leaderboards: an economy-fed board follows XP; refusals are LudexErrors", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const ludex = client(env);
  const playerId = await newPlayer(ludex, "xpboard");
  const unranked = await ludex.leaderboards.aroundMe("xp-all-time", playerId).catch((error: unknown) => error);
  assert.ok(unranked instanceof LudexError);
  assert.deepEqual([unranked.status, unranked.slug], [404, "not-ranked"]);

  await ludex.players.awardXp(playerId, { amount: 321 });
  const standing = await ludex.leaderboards.aroundMe("xp-all-time", playerId);
  assert.equal(standing.score, 321, "read-your-writes: the acknowledged award is on the board");
  assert.deepEqual(standing.around, []);

  const refused = await ludex.leaderboards.submit("xp-all-time", { playerId, score: 5 }).catch((error: unknown) => error);
  assert.ok(refused instanceof LudexError);
  assert.deepEqual([refused.status, refused.slug], [409, "not-submittable"]);
  const missing = await ludex.leaderboards.page("no-such-board").catch((error: unknown) => error);
  assert.ok(missing instanceof LudexError);
  assert.deepEqual([missing.status, missing.slug], [404, "leaderboard-not-found"]);
  const badPeriod = await ludex.leaderboards.page("high-score", { period: "1999-13" }).catch((error: unknown) => error);
  assert.ok(badPeriod instanceof LudexError);
  assert.equal(badPeriod.status, 404);
  const previous = await ludex.leaderboards.page("weekly-wins", { period: "previous" });
  assert.deepEqual(previous.items, [], "last week's archived board: empty on a new server");
});

/** The engine's bucket (engine/flags.py): sha256("<flagId>/<playerId>")[0:8] big-endian mod 10,000. */
function bucket(flagId: string, playerId: string): number {
  const digest = createHash("sha256").update(`${flagId}/${playerId}`).digest();
  return Number(digest.readBigUInt64BE(0) % 10_000n);
}

test("flags: every flag of the economy, evaluated for the player", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const ludex = client(env);
  const seen = new Set<boolean>();
  for (let i = 0; i < 8; i++) {
    const playerId = await newPlayer(ludex, `flags${i}`);
    const { flags } = await ludex.flags.get(playerId);
    assert.deepEqual(Object.keys(flags).sort(), ["doubleXp", "newShop", "veteranOffer"]);
    assert.equal(flags.doubleXp, false);
    assert.equal(flags.veteranOffer, "none", "a new player meets no targeting rule");
    assert.equal(flags.newShop, bucket("newShop", playerId) < 2_500, "the 25 % rollout, bucketed by id");
    seen.add(flags.newShop as boolean);
  }
  t.diagnostic(`newShop values seen: ${[...seen].join(", ")}`);
  const missing = await ludex.flags.get(uniqueId("nobody")).catch((error: unknown) => error);
  assert.ok(missing instanceof LudexError);
  assert.deepEqual([missing.status, missing.slug], [404, "player-not-found"]);
});
