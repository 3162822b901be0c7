// Prints the events of one XP award as they happen: player.xp.added, a player.levelup per level
// crossed, then player.level.updated.
import { Ludex } from "@ludex/sdk";

const ludex = new Ludex({
  baseUrl: process.env.LUDEX_BASE_URL ?? "http://127.0.0.1:8000",
  tenantId: process.env.LUDEX_TENANT_ID ?? "demo",
  projectId: process.env.LUDEX_PROJECT_ID ?? "demo",
  apiKey: process.env.LUDEX_API_KEY ?? "",
});

const playerId = `watcher-${Date.now()}`;
const realtime = ludex.realtime({ eventTypes: ["player.*"] });
const events = realtime.events(); // queues every event from now on
await realtime.connect();
await ludex.players.create({ playerId, username: "watcher" });
await ludex.players.awardXp(playerId, { amount: 460 });

for await (const event of events) {
  if (event.playerId !== playerId) continue;
  console.log(event.type, JSON.stringify(event.data));
  if (event.type === "player.level.updated") break; // the award's last event; leaving the loop closes the subscription
}
