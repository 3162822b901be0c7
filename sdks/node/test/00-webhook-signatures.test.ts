// verifyWebhook against signatures made by the `standardwebhooks` package (the reference
// implementation Ludex's docs point receivers to), and the SDK's own SHA-256 against node:crypto.
import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { Webhook } from "standardwebhooks";
import { LudexError, WebhookVerificationError, signWebhook, verifyWebhook } from "@ludex/sdk";

const secret = `whsec_${randomBytes(24).toString("base64")}`;
const reference = new Webhook(secret);
const body = JSON.stringify({
  id: "evt_0001",
  type: "wallet.credited",
  tenantId: "demo",
  projectId: "demo",
  playerId: "ada",
  seq: 3,
  data: { currency: "coins", amount: 50, balanceAfter: 150, note: "façade ✓" },
  occurredAt: "2026-01-01T00:00:00.000Z",
});

function delivery(at: Date = new Date(), id = "evt_0001"): Record<string, string> {
  return {
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": reference.sign(id, at, body),
  };
}

function rejection(slug: string): (error: unknown) => boolean {
  return (error) => error instanceof WebhookVerificationError && error instanceof LudexError && error.slug === slug;
}

describe("verifyWebhook", () => {
  test("accepts a delivery signed by standardwebhooks and returns its event", () => {
    const event = verifyWebhook(secret, delivery(), body);
    assert.equal(event.type, "wallet.credited");
    assert.deepEqual(event.data, JSON.parse(body).data);
  });

  test("takes the body as a Buffer, a Uint8Array or an ArrayBuffer, and Fetch Headers", () => {
    const headers = delivery();
    const buffer = Buffer.from(body);
    assert.equal(verifyWebhook(secret, headers, buffer).id, "evt_0001");
    assert.equal(verifyWebhook(secret, headers, new Uint8Array(buffer)).id, "evt_0001");
    assert.equal(verifyWebhook(secret, headers, new TextEncoder().encode(body).buffer).id, "evt_0001");
    assert.equal(verifyWebhook(secret, new Headers(headers), body).id, "evt_0001");
  });

  test("matches any one of several signatures (a secret being rotated)", () => {
    const other = new Webhook(`whsec_${randomBytes(24).toString("base64")}`);
    const at = new Date();
    const headers = delivery(at);
    headers["webhook-signature"] = `${other.sign("evt_0001", at, body)} v2,ignored ${headers["webhook-signature"]}`;
    assert.equal(verifyWebhook(secret, headers, body).id, "evt_0001");
  });

  test("our signature is the one standardwebhooks verifies", () => {
    const at = Math.floor(Date.now() / 1000);
    const headers = { "webhook-id": "evt_9", "webhook-timestamp": String(at), "webhook-signature": signWebhook(secret, "evt_9", at, body) };
    assert.deepEqual(reference.verify(body, headers), JSON.parse(body));
  });

  test("rejects a changed body, id or timestamp, and another secret", () => {
    const headers = delivery();
    assert.throws(() => verifyWebhook(secret, headers, body.replace("50", "5000")), rejection("webhook-signature-invalid"));
    assert.throws(() => verifyWebhook(secret, { ...headers, "webhook-id": "evt_0002" }, body), rejection("webhook-signature-invalid"));
    const shifted = String(Number(headers["webhook-timestamp"]) - 1);
    assert.throws(() => verifyWebhook(secret, { ...headers, "webhook-timestamp": shifted }, body), rejection("webhook-signature-invalid"));
    const stranger = `whsec_${randomBytes(24).toString("base64")}`;
    assert.throws(() => verifyWebhook(stranger, headers, body), rejection("webhook-signature-invalid"));
    // What express.json() + JSON.stringify would hand over: same data, other bytes.
    assert.throws(() => verifyWebhook(secret, headers, JSON.stringify(JSON.parse(body), null, 1)), rejection("webhook-signature-invalid"));
  });

  test("rejects timestamps outside 5 minutes either way, accepts them inside", () => {
    const now = Date.now();
    assert.throws(() => verifyWebhook(secret, delivery(new Date(now - 301_000)), body), rejection("webhook-timestamp-too-old"));
    assert.throws(() => verifyWebhook(secret, delivery(new Date(now + 301_000)), body), rejection("webhook-timestamp-too-new"));
    assert.equal(verifyWebhook(secret, delivery(new Date(now - 290_000)), body).id, "evt_0001");
    const old = delivery(new Date(now - 3_600_000));
    assert.equal(verifyWebhook(secret, old, body, { now: now - 3_600_000 }).id, "evt_0001");
  });

  test("rejects missing headers and a parsed body", () => {
    const { "webhook-signature": _, ...unsigned } = delivery();
    assert.throws(() => verifyWebhook(secret, unsigned, body), rejection("webhook-headers-missing"));
    assert.throws(() => verifyWebhook(secret, delivery(), JSON.parse(body)), /RAW request body/);
  });
});

describe("HMAC-SHA256", () => {
  test("equals node:crypto's for every padding boundary and long inputs", () => {
    for (const size of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 70_000]) {
      const key = randomBytes(size % 97);
      const message = randomBytes(size);
      const headers = { "webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "" };
      const secretOfKey = `whsec_${key.toString("base64")}`;
      const expected = createHmac("sha256", key).update(Buffer.concat([Buffer.from("x.1."), message])).digest("base64");
      assert.equal(signWebhook(secretOfKey, headers["webhook-id"], 1, message), `v1,${expected}`, `size ${size}`);
    }
  });
});
