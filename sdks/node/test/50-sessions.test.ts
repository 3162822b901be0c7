/**
 * Player sessions against the real server: a game client signs in by device id and calls as
 * `me`, without a key; the session refreshes (rotating the refresh token, which the storage hook
 * keeps), recovers from a 401 with one refresh, and surfaces the server's refusals as LudexError.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { Ludex, LudexError, MemorySessionStorage, Session, type SessionStorage } from "@ludex/sdk";
import { PACKAGE_DIR, client, newPlayer, serverEnv, uniqueId, type ServerEnv } from "./helpers.js";

/** The in-memory storage, recording what the SDK asked of it. */
class RecordingStorage extends MemorySessionStorage implements SessionStorage {
  readonly saved: string[] = [];
  cleared = 0;
  override save(refreshToken: string): void {
    this.saved.push(refreshToken);
    super.save(refreshToken);
  }
  override clear(): void {
    this.cleared += 1;
    super.clear();
  }
}

function session(env: ServerEnv, storage: SessionStorage = new MemorySessionStorage(), fetcher?: typeof fetch): Session {
  const { baseUrl, tenantId, projectId } = env;
  return new Session({ baseUrl, tenantId, projectId, storage, fetch: fetcher });
}

const deviceId = (): string => uniqueId("device-0123456789abcdef");

async function refusal(promise: Promise<unknown>): Promise<LudexError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LudexError) return error;
    throw error;
  }
  assert.fail("the call succeeded; a refusal was expected");
}

test("device sign-in creates the player once, saves the refresh token, and reads `me`", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const storage = new RecordingStorage();
  const player = session(env, storage);
  const device = deviceId();
  const first = await player.signInWithDevice(device, { username: "ada" });
  assert.equal(first.created, true);
  assert.equal(storage.saved.length, 1, "the sign-in's refresh token went to the storage");
  const again = await session(env).signInWithDevice(device, { username: "ada" });
  assert.deepEqual(again, { playerId: first.playerId, created: false });

  const ludex = new Ludex({ session: player });
  assert.equal((await ludex.players.get("me")).playerId, first.playerId);
  assert.deepEqual((await ludex.wallet.get("me")).balances, {});
});

test("refresh rotates: the new token is saved, the spent one is refused as reused", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const storage = new RecordingStorage();
  const player = session(env, storage);
  await player.signInWithDevice(deviceId());
  const spent = storage.saved[0]!;
  await player.refresh();
  assert.equal(storage.saved.length, 2);
  assert.notEqual(storage.saved[1], spent, "a refresh hands out a new refresh token");

  // Someone replays the spent token (a copy stolen earlier): refused, and every session ends.
  const stolen = new MemorySessionStorage();
  stolen.save(spent);
  assert.equal(await session(env, stolen).restore(), false, "a spent token does not restore a session");
  assert.equal(stolen.load(), undefined, "the refused token is cleared from the storage");
  const reused = await refusal(player.refresh());
  assert.equal(reused.status, 401);
  assert.equal(player.signedIn, false);
  assert.equal(storage.cleared, 1, "the player's own storage is cleared too");
});

test("restore signs in again from the stored refresh token", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const storage = new MemorySessionStorage();
  const { playerId } = await session(env, storage).signInWithDevice(deviceId());
  const nextRun = session(env, storage);
  assert.equal(await nextRun.restore(), true);
  assert.equal(nextRun.playerId, playerId);
  assert.equal((await new Ludex({ session: nextRun }).players.get("me")).playerId, playerId);
});

test("a 401 refreshes once and the call is sent again", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  // The first game call goes out with a forged token, as an expired one would: the real server
  // answers 401, and the SDK must refresh and try again with the new token.
  let forged = 0;
  const authorizations: string[] = [];
  const tampering: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    if (headers.has("authorization")) {
      if (forged === 0) {
        forged += 1;
        headers.set("authorization", "Bearer forged.token.value");
      }
      authorizations.push(headers.get("authorization")!);
    }
    return fetch(input, { ...init, headers });
  };
  const storage = new RecordingStorage();
  const player = session(env, storage, tampering);
  const { playerId } = await player.signInWithDevice(deviceId());
  const ludex = new Ludex({ session: player, fetch: tampering });
  assert.equal((await ludex.players.get("me")).playerId, playerId);
  assert.equal(authorizations.length, 2, "one refused call, one retried");
  assert.equal(storage.saved.length, 2, "the 401 caused exactly one refresh");

  // Once refreshed, another 401 is not retried forever: the server's problem comes back.
  const alwaysForged: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    if (headers.has("authorization")) headers.set("authorization", "Bearer forged.token.value");
    return fetch(input, { ...init, headers });
  };
  const stuck = new Ludex({ session: player, fetch: alwaysForged });
  const error = await refusal(stuck.players.get("me"));
  assert.equal(error.status, 401);
  assert.equal(storage.saved.length, 3, "one refresh per call, not a loop");
});

test("the refresh runs before the access token expires", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const storage = new RecordingStorage();
  const { baseUrl, tenantId, projectId } = env;
  // A margin longer than any access token's life: every call refreshes first.
  const player = new Session({ baseUrl, tenantId, projectId, storage, refreshBeforeMs: 10 * 24 * 3600 * 1000 });
  await player.signInWithDevice(deviceId());
  const before = player.expiresAt!;
  await new Ludex({ session: player }).players.get("me");
  assert.equal(storage.saved.length, 2, "the call refreshed first");
  assert.ok(player.expiresAt! >= before);
});

test("a session may purchase, and is refused server-only ops and other players", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const server = client(env);
  const player = session(env);
  const { playerId } = await player.signInWithDevice(deviceId());
  const game = new Ludex({ session: player });

  await server.wallet.credit(playerId, { currency: "coins", amount: 500, reason: "bonus" }); // the game server's job
  const receipt = await game.store.purchase("me", { sku: "potion-pack", quantity: 1 });
  assert.equal((await game.store.receipt("me", receipt.purchaseId)).purchaseId, receipt.purchaseId);

  const xp = await refusal(game.players.awardXp("me", { amount: 1_000_000 }));
  assert.equal(xp.status, 403);
  assert.equal(xp.slug, "not-client-callable");
  const credit = await refusal(game.wallet.credit("me", { currency: "coins", amount: 1_000_000 }));
  assert.equal(credit.slug, "not-client-callable");

  const other = await newPlayer(server, "victim");
  const theft = await refusal(game.wallet.get(other));
  assert.equal(theft.status, 403);
  assert.equal(theft.slug, "not-your-player");
  assert.equal((await server.wallet.get(playerId)).balances.coins, 400, "nothing changed but the purchase");
});

test("logout ends the session: its refresh token no longer works", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const storage = new RecordingStorage();
  const player = session(env, storage);
  await player.signInWithDevice(deviceId());
  const refreshToken = storage.saved[0]!;
  await player.logout();
  assert.equal(player.signedIn, false);
  assert.equal(storage.load(), undefined);
  const replay = new MemorySessionStorage();
  replay.save(refreshToken);
  assert.equal(await session(env, replay).restore(), false);
  const error = await refusal(new Ludex({ session: player }).players.get("me"));
  assert.equal(error.slug, "not-signed-in");
});

test("a bad device id or custom token surfaces the server's problem", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const short = await refusal(session(env).signInWithDevice("short"));
  assert.equal(short.status, 422);
  const forged = await refusal(session(env).signInWithCustomToken("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZGEifQ."));
  assert.equal(forged.status, 401);
  assert.equal(forged.slug, "invalid-token");
});

for (const credentialsIn of ["headers", "message"] as const) {
  test(`a session's realtime (credentials in ${credentialsIn}) hears its own player's events only`, async (t) => {
    const env = serverEnv(t);
    if (!env) return;
    const server = client(env);
    const player = session(env);
    const { playerId } = await player.signInWithDevice(deviceId());
    const other = await newPlayer(server, "neighbour");
    const realtime = new Ludex({ session: player }).realtime({ eventTypes: ["wallet.*"], credentialsIn });
    const events = realtime.events();
    await realtime.connect();
    await server.wallet.credit(other, { currency: "coins", amount: 7 }); // not this player's: never heard
    await server.wallet.credit(playerId, { currency: "coins", amount: 5 });
    for await (const event of events) {
      assert.equal(event.playerId, playerId, "only the session's own player's events reach it");
      assert.equal(event.data.amount, 5);
      break; // closes the subscription
    }
  });
}

test("the session example signs in without a key, reads `me`, and is refused an award", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const tsx = path.join(PACKAGE_DIR, "node_modules/tsx/dist/cli.mjs");
  const { LUDEX_API_KEY: _key, ...withoutKey } = process.env;
  const { stdout } = await promisify(execFile)(process.execPath, [tsx, "examples/session.ts"], {
    cwd: PACKAGE_DIR,
    env: { ...withoutKey, LUDEX_BASE_URL: env.baseUrl, LUDEX_TENANT_ID: env.tenantId, LUDEX_PROJECT_ID: env.projectId },
  });
  const [signedIn, ...rest] = stdout.trim().split("\n");
  assert.match(signedIn!, /^signed in as \S+ \(new player\)$/);
  assert.deepEqual(rest, ["level=1 xp=0", "xp award refused: 403 not-client-callable"]);
});

test("a session links another device to its player and unlinks it", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const player = session(env);
  const { playerId } = await player.signInWithDevice(deviceId());
  const ludex = new Ludex({ session: player });
  const tablet = deviceId();
  await ludex.devices.link(tablet);
  assert.deepEqual(await session(env).signInWithDevice(tablet), { playerId, created: false });
  await ludex.devices.unlink(tablet);
  const after = await session(env).signInWithDevice(tablet);
  assert.notEqual(after.playerId, playerId, "an unlinked device signs in as a new player");
  assert.equal(after.created, true);
  const keyed = await refusal(client(env).devices.link(deviceId()));
  assert.equal(keyed.status, 403, "linking is the player's own act, never a key's");
});
