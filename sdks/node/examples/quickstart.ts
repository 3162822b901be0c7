// The README's quick start: a player, 460 XP awarded twice with one idempotency key, applied once.
import { Ludex } from "@ludex/sdk";

const ludex = new Ludex({
  baseUrl: process.env.LUDEX_BASE_URL ?? "http://127.0.0.1:8000",
  tenantId: process.env.LUDEX_TENANT_ID ?? "demo",
  projectId: process.env.LUDEX_PROJECT_ID ?? "demo",
  apiKey: process.env.LUDEX_API_KEY ?? "",
});

const player = await ludex.players.create({ playerId: `hero-${Date.now()}`, username: "hero" });
const key = `quest-reward-${player.playerId}`;
await ludex.players.awardXp(player.playerId, { amount: 460, reason: "quest" }, { idempotencyKey: key });
await ludex.players.awardXp(player.playerId, { amount: 460, reason: "quest" }, { idempotencyKey: key }); // replayed, not applied
const { level, xp } = await ludex.players.progression(player.playerId);
console.log(`level=${level} xp=${xp}`);
