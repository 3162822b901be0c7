// A real delivery: `ludex serve` POSTs an event to a receiver in this test, which verifies it.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { Webhook } from "standardwebhooks";
import { WebhookVerificationError, verifyWebhook, type LudexEvent } from "@ludex/sdk";
import { admin, client, serverEnv, uniqueId, waitFor } from "./helpers.js";

interface Received {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

test("a delivery from ludex serve verifies with the subscription's secret", async (t) => {
  const env = serverEnv(t);
  if (!env) return;
  const received: Received[] = [];
  const receiver = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => receiver.close(() => resolve())));
  const { port } = receiver.address() as AddressInfo;

  const backoffice = admin(env);
  const subscription = await backoffice.webhooks.create(env.projectId, {
    url: `http://127.0.0.1:${port}/ludex`,
    eventTypes: ["player.levelup"],
  });
  t.after(() => backoffice.webhooks.delete(env.projectId, subscription.id));
  assert.match(subscription.secret, /^whsec_/);

  const playerId = uniqueId("hooked");
  const ludex = client(env);
  await ludex.players.create({ playerId, username: "hooked" });
  await ludex.players.awardXp(playerId, { amount: 460 });

  const delivery = await waitFor(
    "the player.levelup delivery",
    () => received.find((item) => item.body.includes(playerId)),
    60_000,
  );
  const event: LudexEvent = verifyWebhook(subscription.secret, delivery.headers, delivery.body);
  assert.equal(event.type, "player.levelup");
  assert.equal(event.playerId, playerId);
  assert.equal(delivery.headers["webhook-id"], event.id);
  assert.equal(delivery.headers["ludex-event-type"], "player.levelup");
  assert.deepEqual(new Webhook(subscription.secret).verify(delivery.body.toString("utf8"), delivery.headers as Record<string, string>), event);

  assert.throws(() => verifyWebhook(subscription.secret, delivery.headers, Buffer.concat([delivery.body, Buffer.from(" ")])), WebhookVerificationError);
  const other = await backoffice.webhooks.create(env.projectId, { url: `http://127.0.0.1:${port}/other`, eventTypes: ["player.deleted"] });
  t.after(() => backoffice.webhooks.delete(env.projectId, other.id));
  assert.throws(() => verifyWebhook(other.secret, delivery.headers, delivery.body), WebhookVerificationError);

  const deliveries = await waitFor("the delivery to be recorded as delivered", async () => {
    const page = await backoffice.webhooks.deliveries(env.projectId, subscription.id, { status: "delivered" });
    return page.items.length > 0 ? page : undefined;
  });
  assert.ok(JSON.stringify(deliveries).includes(event.id));

  const paused = await backoffice.webhooks.update(env.projectId, subscription.id, { active: false });
  assert.equal(paused.active, false);
  const listed = await backoffice.webhooks.list(env.projectId);
  assert.ok(listed.items.some((item) => item.id === subscription.id && !item.active));
  assert.ok(!JSON.stringify(listed).includes(subscription.secret), "lists never show the secret");
});
