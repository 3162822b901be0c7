import { Emitter } from "./emitter.js";
import { LudexError } from "./errors.js";
import { randomUuid } from "./ids.js";
import { backoffDelayMs } from "./retry.js";
import type { Session } from "./session.js";
import type { BatchCommand, CounterResult, InventoryLine, LudexEvent, Receipt, WalletResult, XpResult } from "./types.js";

/** The part of the WebSocket API the SDK uses: the browser's, undici's and `ws` all have it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** A WebSocket class: the browser's takes (url, protocols); `ws` takes (url, { headers }). */
export type WebSocketConstructor = new (url: string, options?: unknown) => WebSocketLike;

export interface RealtimeOptions {
  /** Exact types, prefixes such as `wallet.*`, or `*` (the default). */
  eventTypes?: string[];
  /** Resume after this event id: the server first sends what came after it. */
  since?: string;
  /** Reconnect backoff: full jitter on min(maxDelayMs, baseDelayMs·2^n); default 200 ms, 5 s. */
  reconnect?: { baseDelayMs?: number; maxDelayMs?: number; maxAttempts?: number };
  /** A ping this often finds a dead connection a TCP stack would not notice; default 25 s. */
  pingIntervalMs?: number;
  /**
   * Where the credentials go. `headers` (the default in Node, with `ws`) and `message` (the
   * default elsewhere: browsers cannot set WebSocket headers, so the first message carries them,
   * `{action: "auth", ...}`) keep the key out of URLs and logs; `query` puts it in the URL, where
   * proxies and browser history keep it: avoid it.
   */
  credentialsIn?: "headers" | "message" | "query";
  /**
   * What happens to commands sent and not yet answered when the connection drops. `resend` (the
   * default): they go again, in their order, on the next connection with the same idempotency
   * key, so each applies once and its promise settles with the first answer. `reject`: their
   * promises reject with LudexError status 0 `connection-lost` (their fate is unknown; send them
   * again with the same key to learn it).
   */
  unansweredCommands?: "resend" | "reject";
}

/** A command of the stream: a batch op (`xp`, `credit`, `debit`, `grant`, `consume`, `increment`, `purchase`). */
export type StreamCommand = BatchCommand;

/** What each op's result body is (the same as its HTTP call's answer). */
export interface CommandBodies {
  xp: XpResult;
  credit: WalletResult;
  debit: WalletResult;
  grant: InventoryLine;
  consume: InventoryLine;
  increment: CounterResult;
  purchase: Receipt;
}

export type CommandBody<C extends StreamCommand> = C["op"] extends keyof CommandBodies ? CommandBodies[C["op"]] : Record<string, unknown>;

export interface RealtimeConnection {
  baseUrl: string;
  tenantId: string;
  projectId: string;
  /** A game server's key, or else a player's session (its access token, refreshed as needed). */
  apiKey?: string;
  session?: Session;
  WebSocket?: WebSocketConstructor;
}

export interface OpenInfo {
  connectionId: string | undefined;
  /** The id the subscription resumed after, if any. */
  since: string | undefined;
  /** 0 for the first connection, then one more per reconnection. */
  reconnects: number;
}

export interface CloseInfo {
  code: number;
  reason: string;
  /** False when the subscription is over: `close()` was called or the credentials were refused. */
  reconnecting: boolean;
}

type RealtimeEvents = {
  event: (event: LudexEvent) => void;
  open: (info: OpenInfo) => void;
  close: (info: CloseInfo) => void;
  error: (error: LudexError) => void;
};

const AUTH_CLOSE_CODES: ReadonlyMap<number, number> = new Map([
  [4401, 401],
  [4403, 403],
]);
const REFUSALS: ReadonlySet<string> = new Set([
  "missing_headers",
  "missing_credentials",
  "invalid_credentials",
  "auth_timeout",
  "key_revoked",
  "tenant_suspended",
  "project_deleted",
]);
const REMEMBERED_IDS = 10_000;
const OPEN = 1;

/**
 * One realtime subscription that outlives its connections: it reconnects with backoff and
 * resubscribes with `since` = the last event it delivered, and drops any event it already
 * delivered, so a consumer sees each event once across disconnects and server restarts.
 */
export class Realtime extends Emitter<RealtimeEvents> implements AsyncIterable<LudexEvent> {
  readonly #connection: RealtimeConnection;
  readonly #options: RealtimeOptions;
  #socket: WebSocketLike | undefined;
  #lastEventId: string | undefined;
  readonly #delivered = new Set<string>();
  readonly #deliveredOrder: string[] = [];
  #reconnects = 0;
  #failedAttempts = 0;
  #finished = false;
  #finalError: LudexError | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setInterval> | undefined;
  #lastHeardAt = 0;
  #connecting: Promise<void> | undefined;
  #settleConnect: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  readonly #sinks = new Set<Sink>();
  /** Sent and unanswered commands, by id, in send order (a Map iterates in insertion order). */
  readonly #commands = new Map<string, PendingCommand>();
  #commandCount = 0;
  /** A 4401 close on a session's socket refreshes once before it counts as a refusal. */
  #refreshedForClose = false;
  /** The socket on which commands may go: set once the server said hello on it. */
  #commandSocket: WebSocketLike | undefined;

  constructor(connection: RealtimeConnection, options: RealtimeOptions = {}) {
    super();
    this.#connection = connection;
    this.#options = options;
    this.#lastEventId = options.since;
  }

  /** The id of the last event delivered: persist it to resume in a later process. */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** Opens the subscription; resolves once the server confirmed it the first time. */
  connect(): Promise<void> {
    if (this.#finished) return Promise.reject(this.#finalError ?? new Error("realtime subscription closed"));
    this.#connecting ??= new Promise<void>((resolve, reject) => {
      this.#settleConnect = { resolve, reject };
      void this.#open();
    });
    return this.#connecting;
  }

  /**
   * Sends one command over the socket (connecting if needed) and resolves with its result's body,
   * the answer its HTTP call would give; a refused command rejects with that call's LudexError.
   * Exactly once: without your `idempotencyKey` the SDK makes one, kept if the command is resent
   * after a reconnect (see `unansweredCommands`). Send without waiting: one player's commands
   * apply and answer in send order; other players' results may overtake them.
   */
  command<C extends StreamCommand>(command: C): Promise<CommandBody<C>> {
    if (this.#finished) return Promise.reject(this.#finalError ?? closedError());
    this.#commandCount += 1;
    const id = `c${this.#commandCount}`;
    const message = { ...command, idempotencyKey: command.idempotencyKey ?? randomUuid(), action: "command", id };
    const result = new Promise<CommandBody<C>>((resolve, reject) => {
      this.#commands.set(id, { message: JSON.stringify(message), resolve: resolve as (body: unknown) => void, reject });
    });
    const socket = this.#commandSocket;
    if (socket !== undefined && socket.readyState === OPEN) socket.send(this.#commands.get(id)!.message);
    else this.connect().catch(() => undefined); // a refusal ends the subscription: the command rejects
    return result;
  }

  /** How many commands were sent and are not answered yet. */
  get pendingCommands(): number {
    return this.#commands.size;
  }

  /** Ends the subscription for good: no reconnect; iterators finish; unanswered commands reject. */
  close(): void {
    if (this.#finished) return;
    this.#finish(undefined);
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket !== undefined) {
      socket.onclose = null;
      socket.close(1000, "client closed");
    }
    this.emit("close", { code: 1000, reason: "client closed", reconnecting: false });
  }

  /**
   * The events delivered from this call on, as an async iterator (connecting if needed); events
   * wait in its queue until read. Take it before the actions whose events you want, then
   * `for await` it; leaving the loop (`break`, `return`, a throw) closes the subscription.
   */
  events(): AsyncIterableIterator<LudexEvent> {
    const queue: LudexEvent[] = [];
    const sink: Sink = { push: (event) => queue.push(event), wake: undefined };
    this.#sinks.add(sink);
    this.connect().catch(() => undefined); // a refusal ends the subscription: next() throws it
    const iterator: AsyncIterableIterator<LudexEvent> = {
      next: async () => {
        for (;;) {
          const event = queue.shift();
          if (event !== undefined) return { value: event, done: false };
          if (this.#finished) {
            this.#sinks.delete(sink);
            if (this.#finalError !== undefined) throw this.#finalError;
            return { value: undefined, done: true };
          }
          await new Promise<void>((wake) => (sink.wake = wake));
        }
      },
      return: async () => {
        this.#sinks.delete(sink);
        this.close();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** `for await (const event of realtime)`: the same as iterating `realtime.events()`. */
  [Symbol.asyncIterator](): AsyncIterator<LudexEvent> {
    return this.events();
  }

  async #open(): Promise<void> {
    if (this.#finished) return;
    let socket: WebSocketLike;
    try {
      const WebSocketClass = this.#connection.WebSocket ?? (await defaultWebSocket());
      const accessToken = await this.#connection.session?.accessToken();
      socket = this.#createSocket(WebSocketClass, accessToken);
    } catch (error) {
      if (error instanceof LudexError && error.status === 401) {
        // The session's refresh was refused (spent, revoked, the player banned): no retry helps.
        this.#refused(error, 4401, error.slug);
        return;
      }
      this.#scheduleReconnect(1006, String(error));
      return;
    }
    this.#socket = socket;
    this.#lastHeardAt = Date.now();
    socket.onmessage = (message) => this.#onMessage(socket, message.data);
    socket.onerror = () => undefined; // a close always follows; it decides what happens next
    socket.onclose = ({ code, reason }) => this.#onClose(socket, code, String(reason ?? ""));
  }

  #createSocket(WebSocketClass: WebSocketConstructor, accessToken: string | undefined): WebSocketLike {
    const { baseUrl, tenantId, projectId, apiKey = "" } = this.#connection;
    const url = new URL("/v1/realtime", baseUrl.replace(/^http/, "ws"));
    // The server takes no access token from the URL: a session's `query` means `message`.
    const chosen = this.#options.credentialsIn ?? defaultPlace();
    const place = chosen === "query" && accessToken !== undefined ? "message" : chosen;
    if (place === "message") {
      const secret = accessToken === undefined ? { apiKey } : { accessToken };
      const socket = new WebSocketClass(url.toString());
      socket.onopen = () => socket.send(JSON.stringify({ action: "auth", ...secret, tenantId, projectId }));
      return socket;
    }
    const ids = { "x-tenant-id": tenantId, "x-project-id": projectId };
    if (place === "query") {
      for (const [name, value] of Object.entries({ "x-api-key": apiKey, ...ids })) url.searchParams.set(name, value);
      return new WebSocketClass(url.toString());
    }
    const secret = accessToken === undefined ? { "x-api-key": apiKey } : { authorization: `Bearer ${accessToken}` };
    return new WebSocketClass(url.toString(), { headers: { ...secret, ...ids } });
  }

  #onMessage(socket: WebSocketLike, data: unknown): void {
    if (socket !== this.#socket) return;
    this.#lastHeardAt = Date.now();
    let message: { type?: string; event?: LudexEvent; error?: string; connectionId?: string };
    try {
      message = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data as ArrayBuffer));
    } catch {
      return;
    }
    if (message.type === "hello") {
      this.#connectionId = message.connectionId;
      const subscribe: Record<string, unknown> = { action: "subscribe", eventTypes: this.#options.eventTypes ?? ["*"] };
      if (this.#lastEventId !== undefined) subscribe.since = this.#lastEventId;
      socket.send(JSON.stringify(subscribe));
      // Commands may go from now on; the unanswered ones of a dropped connection go again first.
      this.#commandSocket = socket;
      for (const pending of this.#commands.values()) socket.send(pending.message);
    } else if (message.type === "subscribed") {
      this.#failedAttempts = 0;
      this.#refreshedForClose = false;
      this.#startPinging(socket);
      this.emit("open", { connectionId: this.#connectionId, since: this.#lastEventId, reconnects: this.#reconnects });
      this.#settleConnect?.resolve();
    } else if (message.type === "event" && message.event !== undefined) {
      this.#deliver(message.event);
    } else if (message.type === "result") {
      this.#settle(message as unknown as CommandResultMessage);
    } else if (message.type === "error") {
      const code = message.error ?? "error";
      // A refusal of the credentials comes with close 4401/4403 right after: reported once, there.
      if (REFUSALS.has(code)) this.#refusal = code;
      else this.emit("error", realtimeError(0, code, `realtime: ${code}`));
    }
  }

  #connectionId: string | undefined;
  #refusal: string | undefined;

  #deliver(event: LudexEvent): void {
    if (this.#delivered.has(event.id)) return;
    this.#delivered.add(event.id);
    this.#deliveredOrder.push(event.id);
    if (this.#deliveredOrder.length > REMEMBERED_IDS) this.#delivered.delete(this.#deliveredOrder.shift()!);
    this.#lastEventId = event.id;
    for (const sink of this.#sinks) {
      sink.push(event);
      wake(sink);
    }
    this.emit("event", event);
  }

  #settle(result: CommandResultMessage): void {
    const id = String(result.id);
    const pending = this.#commands.get(id);
    if (pending === undefined) return; // answered already (a resend's replay) or not ours
    this.#commands.delete(id);
    if (result.ok) {
      pending.resolve(result.body ?? {});
      return;
    }
    const problem = { ...(result.problem ?? {}) };
    if (result.retryAfterS !== undefined) problem.retryAfterS = result.retryAfterS;
    pending.reject(new LudexError(result.status ?? 0, problem));
  }

  #rejectCommands(error: LudexError): void {
    const pending = [...this.#commands.values()];
    this.#commands.clear();
    for (const command of pending) command.reject(error);
  }

  #onClose(socket: WebSocketLike, code: number, reason: string): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    this.#commandSocket = undefined;
    if (this.#options.unansweredCommands === "reject" && this.#commands.size > 0) {
      this.#rejectCommands(
        realtimeError(0, "connection-lost", `realtime: the connection closed (${code}) before the command's result came`),
      );
    }
    this.#stopPinging();
    const status = AUTH_CLOSE_CODES.get(code);
    const session = this.#connection.session;
    if (code === 4401 && session !== undefined && !this.#refreshedForClose) {
      // The access token expired while open (or just before): refresh once, then connect again.
      this.#refreshedForClose = true;
      this.emit("close", { code, reason, reconnecting: true });
      session.refresh().then(
        () => void this.#open(),
        (error: unknown) => {
          if (error instanceof LudexError && error.status === 401) this.#refused(error, code, reason);
          else this.#scheduleReconnect(code, reason);
        },
      );
      return;
    }
    if (status !== undefined) {
      const error = realtimeError(status, this.#refusal ?? (reason || "unauthorized"), `realtime refused the credentials (close ${code})`);
      this.#refused(error, code, reason);
      return;
    }
    this.#scheduleReconnect(code, reason);
  }

  /** The subscription ends: the server refused its credentials and trying again cannot help. */
  #refused(error: LudexError, code: number, reason: string): void {
    this.#finish(error);
    this.emit("error", error);
    this.emit("close", { code, reason, reconnecting: false });
  }

  #scheduleReconnect(code: number, reason: string): void {
    if (this.#finished) return;
    const { baseDelayMs = 200, maxDelayMs = 5_000, maxAttempts = Infinity } = this.#options.reconnect ?? {};
    this.#failedAttempts += 1;
    if (this.#failedAttempts > maxAttempts) {
      const error = realtimeError(0, "reconnect-failed", `realtime: gave up after ${maxAttempts} attempts`);
      this.#finish(error);
      this.emit("error", error);
      this.emit("close", { code, reason, reconnecting: false });
      return;
    }
    this.emit("close", { code, reason, reconnecting: true });
    const delay = backoffDelayMs(this.#failedAttempts - 1, baseDelayMs, maxDelayMs);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnects += 1;
      void this.#open();
    }, delay);
  }

  #startPinging(socket: WebSocketLike): void {
    this.#stopPinging();
    const interval = this.#options.pingIntervalMs ?? 25_000;
    this.#pingTimer = setInterval(() => {
      if (Date.now() - this.#lastHeardAt > 2 * interval) {
        // Nothing heard, not even a pong: the connection is dead without having said so.
        const dead = socket as WebSocketLike & { terminate?: () => void };
        if (dead.terminate) dead.terminate();
        else dead.close(4000, "no pong");
        this.#onClose(socket, 1006, "no pong");
      } else if (socket.readyState === OPEN) {
        socket.send(JSON.stringify({ action: "ping" }));
      }
    }, interval);
    (this.#pingTimer as { unref?: () => void }).unref?.();
  }

  #stopPinging(): void {
    if (this.#pingTimer !== undefined) clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
  }

  #finish(error: LudexError | undefined): void {
    this.#finished = true;
    this.#finalError = error;
    this.#stopPinging();
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#commandSocket = undefined;
    if (error !== undefined) this.#settleConnect?.reject(error);
    else this.#settleConnect?.resolve();
    this.#rejectCommands(error ?? closedError());
    for (const sink of this.#sinks) wake(sink);
  }
}

/** A command sent (or to send) and its promise's settlers. */
interface PendingCommand {
  /** The JSON sent, the same on every connection: the same id and idempotency key. */
  message: string;
  resolve: (body: unknown) => void;
  reject: (error: LudexError) => void;
}

interface CommandResultMessage {
  id: string | number;
  ok?: boolean;
  status?: number;
  body?: Record<string, unknown>;
  problem?: Record<string, unknown>;
  retryAfterS?: number;
  replayed?: boolean;
}

function closedError(): LudexError {
  return realtimeError(0, "realtime-closed", "realtime: the subscription is closed");
}

/** One iterator's queue and the resolver of its pending `next()`. */
interface Sink {
  push(event: LudexEvent): void;
  wake: (() => void) | undefined;
}

function wake(sink: Sink): void {
  const resolve = sink.wake;
  sink.wake = undefined;
  resolve?.();
}

function realtimeError(status: number, slug: string, detail: string): LudexError {
  return new LudexError(status, { type: `https://ludex.dev/problems/${slug}`, title: slug, status, detail });
}

/** Node's WebSocket classes (`ws`, undici) can send headers; browsers' cannot: the first message then. */
function defaultPlace(): "headers" | "message" {
  return isNode() ? "headers" : "message";
}

function isNode(): boolean {
  return typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === "string";
}

/** Node: `ws` (Node 20 has no global WebSocket). Elsewhere (browsers): the platform's. */
async function defaultWebSocket(): Promise<WebSocketConstructor> {
  if (isNode()) {
    const module = await import("ws");
    return module.default as unknown as WebSocketConstructor;
  }
  const platform = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (platform === undefined) throw new Error("no WebSocket on this platform: pass the `WebSocket` option");
  return platform;
}
