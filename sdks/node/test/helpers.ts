/**
 * What the tests share: the server the harness started (sdks/test_server.py exports its LUDEX_*
 * environment), clients for it, a restart of it, and a TCP proxy that breaks connections.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { TestContext } from "node:test";
import WebSocket from "ws";
import { Ludex, LudexAdmin, type KeyOptions, type WebSocketConstructor } from "@ludex/sdk";

export const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const REPO_DIR = path.resolve(PACKAGE_DIR, "../..");

export interface ServerEnv {
  baseUrl: string;
  tenantId: string;
  projectId: string;
  apiKey: string;
  adminEmail: string;
  adminPassword: string;
  stateFile: string;
}

const NAMES = {
  baseUrl: "LUDEX_BASE_URL",
  tenantId: "LUDEX_TENANT_ID",
  projectId: "LUDEX_PROJECT_ID",
  apiKey: "LUDEX_API_KEY",
  adminEmail: "LUDEX_ADMIN_EMAIL",
  adminPassword: "LUDEX_ADMIN_PASSWORD",
  stateFile: "LUDEX_TEST_SERVER_STATE",
} as const;

/**
 * The harness's server, or a skip when there is none (a plain `npm test`); under CI=true a
 * missing server fails the run instead, so CI can never pass without testing anything.
 */
export function serverEnv(t: TestContext): ServerEnv | undefined {
  const missing = Object.values(NAMES).filter((name) => !process.env[name]);
  if (missing.length === 0) {
    return Object.fromEntries(Object.entries(NAMES).map(([key, name]) => [key, process.env[name]!])) as unknown as ServerEnv;
  }
  const message = `no ludex serve: ${missing.join(", ")} unset; run \`make -C sdks/node test\` (starts one via sdks/test_server.py)`;
  if (process.env.CI === "true") throw new Error(message);
  t.skip(message);
  return undefined;
}

export function client(env: ServerEnv, options: Partial<KeyOptions> = {}): Ludex {
  const { baseUrl, tenantId, projectId, apiKey } = env;
  return new Ludex({ baseUrl, tenantId, projectId, apiKey, ...options });
}

export function admin(env: ServerEnv): LudexAdmin {
  return new LudexAdmin({
    baseUrl: env.baseUrl,
    tenantId: env.tenantId,
    email: env.adminEmail,
    password: env.adminPassword,
  });
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Stops and starts `ludex serve` on the same data dir and port; resolves when it is ready. */
export async function restartServer(env: ServerEnv): Promise<void> {
  await promisify(execFile)(
    path.join(REPO_DIR, ".venv/bin/python"),
    [path.join(REPO_DIR, "sdks/test_server.py"), "restart", env.stateFile],
    { timeout: 240_000 },
  );
}

export async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface TcpProxy {
  url: string;
  /** How many answers were cut off. */
  dropped(): number;
  /** While refusing, new connections are closed at once, as by a server that is down. */
  refuse(refusing: boolean): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy to the server. With `dropFirstAnswer`, its first connection forwards the request
 * and then drops the client's connection as the answer starts to come back: the server has acted,
 * the client never hears it, exactly the case an idempotency key exists for.
 */
export async function tcpProxy(target: URL, options: { dropFirstAnswer?: boolean } = {}): Promise<TcpProxy> {
  let connections = 0;
  let dropped = 0;
  let refusing = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((downstream) => {
    if (refusing) return void downstream.destroy();
    const cutOff = options.dropFirstAnswer === true && connections === 0;
    connections += 1;
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(downstream).add(upstream);
    downstream.on("data", (chunk) => upstream.write(chunk));
    upstream.on("data", (chunk) => {
      if (cutOff) {
        dropped += 1;
        downstream.destroy();
        upstream.destroy();
      } else {
        downstream.write(chunk);
      }
    });
    for (const [socket, other] of [[downstream, upstream], [upstream, downstream]] as const) {
      socket.on("error", () => other.destroy());
      socket.on("close", () => {
        other.destroy();
        sockets.delete(socket);
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dropped: () => dropped,
    refuse: (value) => void (refusing = value),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A new player with a unique id (its username is the prefix): most tests start from one. */
export async function newPlayer(ludex: Ludex, prefix: string): Promise<string> {
  const playerId = uniqueId(prefix);
  await ludex.players.create({ playerId, username: prefix });
  return playerId;
}

/**
 * `ws`, with every message the server sends handed to `intercept` before the SDK sees it:
 * `deliver()` passes it on (call it twice to duplicate, never to drop), `socket` is the real one.
 */
export function interceptingWebSocket(
  intercept: (message: { type?: string }, deliver: () => void, socket: WebSocket) => void,
): WebSocketConstructor {
  return function (url: string, options?: WebSocket.ClientOptions) {
    const socket = new WebSocket(url, options);
    let listener: ((message: { data: unknown }) => void) | null = null;
    Object.defineProperty(socket, "onmessage", { get: () => listener, set: (value) => (listener = value) });
    socket.addEventListener("message", (message) => {
      intercept(JSON.parse(String(message.data)) as { type?: string }, () => listener?.(message), socket);
    });
    return socket;
  } as unknown as WebSocketConstructor;
}
