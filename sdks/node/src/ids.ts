/**
 * A random UUIDv4 for idempotency keys. Web Crypto where the platform has it (browsers, Node
 * 19+); Node 18 exposes it only as a module, so the last resort mixes Math.random with the clock:
 * keys only need to be unique per player, not secret.
 */
export function randomUuid(): string {
  const webCrypto = (globalThis as { crypto?: Crypto }).crypto;
  if (typeof webCrypto?.randomUUID === "function") return webCrypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof webCrypto?.getRandomValues === "function") {
    webCrypto.getRandomValues(bytes);
  } else {
    const now = Date.now();
    for (let i = 0; i < 16; i++) bytes[i] = (Math.random() * 256) ^ ((now / 2 ** (i % 6 * 8)) & 0xff);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
