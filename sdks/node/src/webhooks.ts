import { LudexError } from "./errors.js";
import { hmac } from "@noble/hashes/hmac";
import { sha256 } from "@noble/hashes/sha2";
import type { LudexEvent } from "./types.js";

/** Headers as Node (`req.headers`), Fetch (`Headers`) or a plain object give them. */
export type WebhookHeaders =
  | { get(name: string): string | null }
  | Record<string, string | string[] | undefined>;

/** The body exactly as received: a Buffer/Uint8Array, an ArrayBuffer, or the undecoded string. */
export type RawBody = string | Uint8Array | ArrayBuffer;

export interface VerifyOptions {
  /** How far the timestamp may be from now, either way; default 300 s (Standard Webhooks). */
  toleranceSeconds?: number;
  /** "Now", for tests and replays of stored deliveries. */
  now?: Date | number;
}

/** A delivery that must be rejected (answer 400/401); `slug` says why. */
export class WebhookVerificationError extends LudexError {
  constructor(slug: string, detail: string) {
    super(401, { type: `https://ludex.dev/problems/${slug}`, title: "Webhook verification failed", status: 401, detail });
    this.name = "WebhookVerificationError";
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Checks a Ludex webhook delivery per Standard Webhooks and returns its event: the HMAC-SHA256
 * of `<webhook-id>.<webhook-timestamp>.<raw body>` must match one of the `v1,` signatures (compared
 * in constant time) and the timestamp must be within the tolerance, which stops replays.
 *
 * The body must be the raw bytes: JSON parsed and serialised again (Express's `express.json()`,
 * Fastify's default parser) no longer matches its signature.
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  rawBody: RawBody,
  options: VerifyOptions = {},
): LudexEvent {
  const body = bodyBytes(rawBody);
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError("webhook-headers-missing", "webhook-id, webhook-timestamp and webhook-signature are required");
  }
  const seconds = Number(timestamp);
  if (!/^\d+$/.test(timestamp) || !Number.isSafeInteger(seconds)) {
    throw new WebhookVerificationError("webhook-timestamp-invalid", `webhook-timestamp ${JSON.stringify(timestamp)} is not Unix seconds`);
  }
  const now = Math.floor(Number(options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (seconds < now - tolerance) {
    throw new WebhookVerificationError("webhook-timestamp-too-old", `signed ${now - seconds} s ago; at most ${tolerance} s accepted`);
  }
  if (seconds > now + tolerance) {
    throw new WebhookVerificationError("webhook-timestamp-too-new", `signed ${seconds - now} s in the future`);
  }
  const expected = sign(secretBytes(secret), id, timestamp, body);
  let matched = false;
  for (const candidate of signatures.split(" ")) {
    const comma = candidate.indexOf(",");
    if (comma < 0 || candidate.slice(0, comma) !== "v1") continue;
    // Compare every candidate (no early exit) so the time taken tells nothing about any of them.
    matched = constantTimeEqual(candidate.slice(comma + 1), expected) || matched;
  }
  if (!matched) throw new WebhookVerificationError("webhook-signature-invalid", "no webhook-signature matches the body");
  try {
    return JSON.parse(decoder.decode(body)) as LudexEvent;
  } catch {
    throw new WebhookVerificationError("webhook-body-invalid", "the signed body is not JSON");
  }
}

/**
 * The `webhook-signature` value Ludex sends for a body: for tests of your own receiver.
 * `timestamp` is Unix seconds.
 */
export function signWebhook(secret: string, id: string, timestamp: number | string, rawBody: RawBody): string {
  return `v1,${sign(secretBytes(secret), id, String(timestamp), bodyBytes(rawBody))}`;
}

function sign(key: Uint8Array, id: string, timestamp: string, body: Uint8Array): string {
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const content = new Uint8Array(prefix.length + body.length);
  content.set(prefix);
  content.set(body, prefix.length);
  return toBase64(hmac(sha256, key, content));
}

function secretBytes(secret: string): Uint8Array {
  const encoded = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
  try {
    return Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
  } catch {
    throw new TypeError("webhook secret must be `whsec_` followed by base64, as Ludex shows it");
  }
}

function bodyBytes(rawBody: RawBody): Uint8Array {
  if (typeof rawBody === "string") return encoder.encode(rawBody);
  if (rawBody instanceof Uint8Array) return rawBody;
  if (rawBody instanceof ArrayBuffer) return new Uint8Array(rawBody);
  throw new TypeError(
    "verifyWebhook needs the RAW request body (string, Buffer or ArrayBuffer), not parsed JSON: " +
      "use express.raw({ type: 'application/json' }) on the webhook route",
  );
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === "function") {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(" ") : value;
  }
  return undefined;
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
