// A game client's view: no API key. It signs a player in by this install's device id, reads the
// player as `me`, and shows that a session cannot award itself XP (the game server does that).
// Reads LUDEX_BASE_URL, LUDEX_TENANT_ID, LUDEX_PROJECT_ID (and LUDEX_DEVICE_ID, else a new one).
import { Ludex, LudexError, Session } from "@ludex/sdk";

const session = new Session({
  baseUrl: process.env.LUDEX_BASE_URL ?? "http://127.0.0.1:8000",
  tenantId: process.env.LUDEX_TENANT_ID ?? "demo",
  projectId: process.env.LUDEX_PROJECT_ID ?? "demo",
  // storage: your own SessionStorage (localStorage, a save file) keeps the player signed in across runs
});
const deviceId = process.env.LUDEX_DEVICE_ID ?? `device-${crypto.randomUUID()}`;
const { playerId, created } = await session.signInWithDevice(deviceId);
console.log(`signed in as ${playerId}${created ? " (new player)" : ""}`);

const ludex = new Ludex({ session });
const { level, xp } = await ludex.players.progression("me");
console.log(`level=${level} xp=${xp}`);
try {
  await ludex.players.awardXp("me", { amount: 1_000_000 });
} catch (error) {
  if (!(error instanceof LudexError)) throw error;
  console.log(`xp award refused: ${error.status} ${error.slug}`);
}
await session.logout();
