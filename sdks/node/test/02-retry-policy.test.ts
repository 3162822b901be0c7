// The retry arithmetic on its own: full-jitter bounds, the cap, and Retry-After in both forms.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_RETRY, LudexError, slugOf } from "@ludex/sdk";
import { backoffDelayMs, retryAfterMs, retryPolicy } from "../src/retry.js";

test("defaults: 5 attempts, base 200 ms, cap 5 s, 30 s in all; false means one attempt", () => {
  assert.deepEqual(DEFAULT_RETRY, { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5_000, maxElapsedMs: 30_000 });
  assert.equal(retryPolicy(false).maxAttempts, 1);
  assert.deepEqual(retryPolicy({ maxAttempts: 9 }), { ...DEFAULT_RETRY, maxAttempts: 9 });
});

test("full jitter draws from [0, min(cap, base·2^n)]", () => {
  assert.equal(backoffDelayMs(0, 200, 5_000, () => 0.999999), 199);
  assert.equal(backoffDelayMs(3, 200, 5_000, () => 0.5), 800);
  assert.equal(backoffDelayMs(10, 200, 5_000, () => 0.999999), 4_999);
  assert.equal(backoffDelayMs(4, 200, 5_000, () => 0), 0);
  for (let n = 0; n < 200; n++) {
    const delay = backoffDelayMs(n % 12, 200, 5_000);
    assert.ok(delay >= 0 && delay < 5_000);
  }
});

test("Retry-After: delta-seconds, an HTTP date, or nothing", () => {
  assert.equal(retryAfterMs("2"), 2_000);
  assert.equal(retryAfterMs("0"), 0);
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(retryAfterMs("Thu, 01 Jan 2026 00:00:03 GMT", now), 3_000);
  assert.equal(retryAfterMs(null), undefined);
  assert.equal(retryAfterMs("soon"), undefined);
});

test("LudexError takes the slug from the problem type and the request id from the body first", () => {
  const error = new LudexError(409, { type: "https://ludex.dev/problems/insufficient-funds", title: "t", detail: "short", requestId: "body-id" }, "header-id");
  assert.deepEqual([error.slug, error.detail, error.requestId], ["insufficient-funds", "short", "body-id"]);
  assert.equal(new LudexError(502, { detail: "bad gateway" }, "header-id").requestId, "header-id");
  assert.equal(slugOf("about:blank"), undefined);
});
