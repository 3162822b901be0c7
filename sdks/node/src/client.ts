import { randomUuid } from "./ids.js";
import { Realtime, type RealtimeOptions, type WebSocketConstructor } from "./realtime.js";
import { retryPolicy, type RetryOption } from "./retry.js";
import type { Session } from "./session.js";
import { Transport, segment, type CallOptions, type RetryInfo } from "./transport.js";
import type {
  Achievements,
  AwardXp,
  BatchCommand,
  BatchResults,
  Catalog,
  CounterIncrement,
  CounterResult,
  Counters,
  CreatePlayer,
  EventPage,
  Inventory,
  InventoryLine,
  ItemChange,
  LeaderboardList,
  LeaderboardEntry,
  LeaderboardPage,
  LeaderboardStanding,
  LedgerPage,
  LudexEvent,
  Player,
  PlayerFlags,
  PlayerPage,
  Profile,
  Progression,
  PurchaseRequest,
  QuestProgress,
  QuestState,
  Quests,
  Receipt,
  ScoreResult,
  ScoreSubmission,
  Sku,
  UpdatePlayer,
  Wallet,
  WalletChange,
  WalletResult,
  XpResult,
} from "./types.js";

interface CommonOptions {
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  /** `false` disables retries; a partial policy overrides the defaults (5 attempts, 30 s). */
  retry?: RetryOption;
  /** Called before each retry wait: log it, count it. */
  onRetry?: (info: RetryInfo) => void;
  /** Another fetch (a proxy agent, a test double in your own tests). */
  fetch?: typeof fetch;
  /** Another WebSocket class for realtime; default: `ws` in Node, the global one in browsers. */
  WebSocket?: WebSocketConstructor;
}

/** A game server's client: a project API key, which acts on every player of the project. */
export interface KeyOptions extends CommonOptions {
  /** e.g. `https://api.ludex.example` (no `/v1`). */
  baseUrl: string;
  tenantId: string;
  projectId: string;
  apiKey: string;
  session?: undefined;
}

/**
 * A game client's: a signed-in player's session (no key ships with the game). Its player is
 * `"me"` in any call (`ludex.wallet.get("me")`); the server refuses other players and the ops
 * the economy's client policy does not allow (403 `not-your-player`, `not-client-callable`).
 */
export interface SessionClientOptions extends CommonOptions {
  session: Session;
  apiKey?: undefined;
}

export type LudexOptions = KeyOptions | SessionClientOptions;

/** Options of an economy-changing call. */
export interface WriteOptions extends CallOptions {
  /**
   * Makes the call exactly-once: the server applies a key once and replays its answer after.
   * Default: a fresh UUID per call, reused by the SDK's own retries of that call.
   */
  idempotencyKey?: string;
}

export interface PlayerQuery {
  username?: string;
  cursor?: string;
  limit?: number;
}

export interface HistoryQuery {
  currency?: string;
  cursor?: string;
  limit?: number;
}

export interface LeaderboardQuery {
  /** `current` (the default), `previous` (the last ended period) or a period id (`2026-W49`). */
  period?: string;
  cursor?: string;
  /** 1 to 100; default 50. */
  limit?: number;
}

export interface StandingQuery {
  /** `current` (the default), `previous` or a period id. */
  period?: string;
  /** Entries to include above and below the player (0 to the server's maximum); default 0. */
  around?: number;
}

export interface EventQuery {
  /** One type, or several (sent as repeated `type` parameters). */
  type?: string | string[];
  playerId?: string;
  /** RFC 3339: events at or after it. */
  from?: string;
  /** RFC 3339: events before it (exclusive). */
  to?: string;
  cursor?: string;
  limit?: number;
}

/**
 * The game API client: one per process is enough (it holds no connection of its own; fetch pools
 * them). Every economy-changing call is exactly-once by default.
 */
export class Ludex {
  readonly players: Players;
  readonly wallet: WalletApi;
  readonly inventory: InventoryApi;
  readonly items: Items;
  readonly counters: CountersApi;
  readonly quests: QuestsApi;
  readonly achievements: AchievementsApi;
  readonly store: Store;
  readonly commands: Commands;
  readonly events: Events;
  readonly leaderboards: Leaderboards;
  readonly flags: Flags;
  /** A session's own devices: link this install to the signed-in player, or unlink it. */
  readonly devices: Devices;
  /** The player session this client calls with, or undefined for a key client. */
  readonly session: Session | undefined;
  readonly #options: LudexOptions;
  readonly #baseUrl: string;
  readonly #tenantId: string;
  readonly #projectId: string;

  constructor(options: LudexOptions) {
    const { session } = options;
    if (session === undefined) {
      for (const name of ["baseUrl", "tenantId", "projectId", "apiKey"] as const) {
        if (typeof options[name] !== "string" || options[name] === "") {
          throw new TypeError(`Ludex: option ${name} is required (or a session)`);
        }
      }
    }
    this.#options = options;
    this.session = session;
    this.#baseUrl = session?.baseUrl ?? (options as KeyOptions).baseUrl;
    this.#tenantId = session?.tenantId ?? (options as KeyOptions).tenantId;
    this.#projectId = session?.projectId ?? (options as KeyOptions).projectId;
    const tenantId = this.#tenantId;
    const transport = new Transport({
      baseUrl: this.#baseUrl,
      timeoutMs: options.timeoutMs ?? 10_000,
      retry: retryPolicy(options.retry),
      headers:
        session === undefined
          ? () => ({ "x-tenant-id": tenantId, "x-api-key": (options as KeyOptions).apiKey })
          : async () => ({ "x-tenant-id": tenantId, authorization: `Bearer ${await session.accessToken()}` }),
      onUnauthorized: session === undefined ? undefined : () => session.refresh(),
      fetch: options.fetch,
      onRetry: options.onRetry,
    });
    const api = new Api(transport, `/v1/projects/${segment(this.#projectId)}`);
    this.players = new Players(api);
    this.wallet = new WalletApi(api);
    this.inventory = new InventoryApi(api);
    this.items = new Items(api);
    this.counters = new CountersApi(api);
    this.quests = new QuestsApi(api);
    this.achievements = new AchievementsApi(api);
    this.store = new Store(api);
    this.commands = new Commands(api);
    this.events = new Events(api);
    this.leaderboards = new Leaderboards(api);
    this.flags = new Flags(api);
    this.devices = new Devices(api);
  }

  /** A realtime subscription; call `connect()` (or iterate it) to open it. */
  realtime(options: RealtimeOptions = {}): Realtime {
    const { session, WebSocket } = this.#options;
    const credentials =
      session === undefined
        ? { apiKey: (this.#options as KeyOptions).apiKey }
        : { session };
    return new Realtime({ baseUrl: this.#baseUrl, tenantId: this.#tenantId, projectId: this.#projectId, WebSocket, ...credentials }, options);
  }
}

/** The project-scoped calls the resource classes share. */
class Api {
  constructor(
    readonly transport: Transport,
    readonly prefix: string,
  ) {}

  get<T>(path: string, query?: Record<string, unknown>, options: CallOptions = {}): Promise<T> {
    return this.transport.request<T>({
      method: "GET",
      path: this.prefix + path,
      query: query as Record<string, string>,
      safeToRepeat: true,
      ...options,
    });
  }

  /** An economy-changing POST: always with an Idempotency-Key, kept across retries. */
  write<T>(path: string, body: unknown, options: WriteOptions = {}): Promise<T> {
    const { idempotencyKey = randomUuid(), ...call } = options;
    return this.transport.request<T>({
      method: "POST",
      path: this.prefix + path,
      body: body ?? {},
      idempotencyKey,
      safeToRepeat: true,
      ...call,
    });
  }

  send<T>(method: "PATCH" | "DELETE", path: string, body?: unknown, options: CallOptions = {}): Promise<T> {
    // The same PATCH or DELETE twice has the effect of one, so they are safe to repeat.
    return this.transport.request<T>({ method, path: this.prefix + path, body, safeToRepeat: true, ...options });
  }
}

const player = (playerId: string): string => `/players/${segment(playerId)}`;

class Players {
  constructor(readonly api: Api) {}

  /** 201 with the new player; the same body again answers the same player (200). */
  create(body: CreatePlayer, options?: WriteOptions): Promise<Player> {
    return this.api.write("/players", body, options);
  }
  get(playerId: string, options?: CallOptions): Promise<Profile> {
    return this.api.get(player(playerId), undefined, options);
  }
  list(query: PlayerQuery = {}, options?: CallOptions): Promise<PlayerPage> {
    return this.api.get("/players", { ...query }, options);
  }
  /** Every player matching `query`, page after page. */
  async *iterate(query: PlayerQuery = {}, options?: CallOptions): AsyncGenerator<Player> {
    for (let cursor = query.cursor; ; ) {
      const page = await this.list({ ...query, cursor }, options);
      yield* page.items;
      if (!page.nextCursor) return;
      cursor = page.nextCursor;
    }
  }
  update(playerId: string, body: UpdatePlayer, options?: CallOptions): Promise<Player> {
    return this.api.send("PATCH", player(playerId), body, options);
  }
  async delete(playerId: string, options?: CallOptions): Promise<void> {
    await this.api.send("DELETE", player(playerId), undefined, options);
  }
  awardXp(playerId: string, body: AwardXp, options?: WriteOptions): Promise<XpResult> {
    return this.api.write(`${player(playerId)}/xp`, body, options);
  }
  progression(playerId: string, options?: CallOptions): Promise<Progression> {
    return this.api.get(`${player(playerId)}/progression`, undefined, options);
  }
}

class WalletApi {
  constructor(readonly api: Api) {}

  get(playerId: string, options?: CallOptions): Promise<Wallet> {
    return this.api.get(`${player(playerId)}/wallet`, undefined, options);
  }
  credit(playerId: string, body: WalletChange, options?: WriteOptions): Promise<WalletResult> {
    return this.api.write(`${player(playerId)}/wallet/credit`, body, options);
  }
  /** Throws LudexError 409 `insufficient-funds` when the balance is short. */
  debit(playerId: string, body: WalletChange, options?: WriteOptions): Promise<WalletResult> {
    return this.api.write(`${player(playerId)}/wallet/debit`, body, options);
  }
  /** The ledger, oldest first. */
  history(playerId: string, query: HistoryQuery = {}, options?: CallOptions): Promise<LedgerPage> {
    return this.api.get(`${player(playerId)}/wallet/history`, { ...query }, options);
  }
}

class InventoryApi {
  constructor(readonly api: Api) {}

  get(playerId: string, options?: CallOptions): Promise<Inventory> {
    return this.api.get(`${player(playerId)}/inventory`, undefined, options);
  }
}

class Items {
  constructor(readonly api: Api) {}

  grant(playerId: string, body: ItemChange, options?: WriteOptions): Promise<InventoryLine> {
    return this.api.write(`${player(playerId)}/items/grant`, body, options);
  }
  consume(playerId: string, body: ItemChange, options?: WriteOptions): Promise<InventoryLine> {
    return this.api.write(`${player(playerId)}/items/consume`, body, options);
  }
}

class CountersApi {
  constructor(readonly api: Api) {}

  get(playerId: string, options?: CallOptions): Promise<Counters> {
    return this.api.get(`${player(playerId)}/counters`, undefined, options);
  }
  increment(playerId: string, counterId: string, body: CounterIncrement = {}, options?: WriteOptions): Promise<CounterResult> {
    return this.api.write(`${player(playerId)}/counters/${segment(counterId)}/increment`, body, options);
  }
  reset(playerId: string, counterId: string, options?: WriteOptions): Promise<CounterResult> {
    return this.api.write(`${player(playerId)}/counters/${segment(counterId)}/reset`, {}, options);
  }
}

class QuestsApi {
  constructor(readonly api: Api) {}

  get(playerId: string, options?: CallOptions): Promise<Quests> {
    return this.api.get(`${player(playerId)}/quests`, undefined, options);
  }
  progress(playerId: string, questId: string, body: QuestProgress, options?: WriteOptions): Promise<QuestState> {
    return this.api.write(`${player(playerId)}/quests/${segment(questId)}/progress`, body, options);
  }
}

class AchievementsApi {
  constructor(readonly api: Api) {}

  get(playerId: string, options?: CallOptions): Promise<Achievements> {
    return this.api.get(`${player(playerId)}/achievements`, undefined, options);
  }
}

class Store {
  constructor(readonly api: Api) {}

  catalog(options?: CallOptions): Promise<Catalog> {
    return this.api.get("/store/catalog", undefined, options);
  }
  sku(sku: string, options?: CallOptions): Promise<Sku> {
    return this.api.get(`/store/skus/${segment(sku)}`, undefined, options);
  }
  /** The debit and every grant commit together or not at all. */
  purchase(playerId: string, body: PurchaseRequest, options?: WriteOptions): Promise<Receipt> {
    return this.api.write(`${player(playerId)}/purchases`, body, options);
  }
  receipt(playerId: string, purchaseId: string, options?: CallOptions): Promise<Receipt> {
    return this.api.get(`${player(playerId)}/purchases/${segment(purchaseId)}`, undefined, options);
  }
}

class Commands {
  constructor(readonly api: Api) {}

  /**
   * Runs up to 500 commands in one call; results come back in order. A command without its own
   * `idempotencyKey` gets a UUID before the first attempt, so a retried batch applies once.
   */
  batch(commands: readonly BatchCommand[], options?: CallOptions): Promise<BatchResults> {
    const keyed = commands.map((command) => ({ ...command, idempotencyKey: command.idempotencyKey ?? randomUuid() }));
    return this.api.transport.request({
      method: "POST",
      path: `${this.api.prefix}/commands`,
      body: { commands: keyed },
      safeToRepeat: true,
      ...options,
    });
  }
}

class Events {
  constructor(readonly api: Api) {}

  list(query: EventQuery = {}, options?: CallOptions): Promise<EventPage> {
    return this.api.get("/events", { ...query }, options);
  }
  /** Every page of the query, in the store's order. */
  async *pages(query: EventQuery = {}, options?: CallOptions): AsyncGenerator<EventPage> {
    for (let cursor = query.cursor; ; ) {
      const page = await this.list({ ...query, cursor }, options);
      yield page;
      if (!page.nextCursor) return;
      cursor = page.nextCursor;
    }
  }
  /** Every event of the query: `for await (const event of ludex.events.iterate({...}))`. */
  async *iterate(query: EventQuery = {}, options?: CallOptions): AsyncGenerator<LudexEvent> {
    for await (const page of this.pages(query, options)) yield* page.items;
  }
}

class Leaderboards {
  constructor(readonly api: Api) {}

  /** The project's boards as its economy defines them, each with its current period. */
  list(options?: CallOptions): Promise<LeaderboardList> {
    return this.api.get("/leaderboards", undefined, options);
  }
  /**
   * Posts a score to a `submitted` board (409 `not-submittable` on a board the economy feeds);
   * exactly once like every write. Answers the player's score and rank after it.
   */
  submit(boardId: string, body: ScoreSubmission, options?: WriteOptions): Promise<ScoreResult> {
    return this.api.write(`${board(boardId)}/scores`, body, options);
  }
  /** One page of a period's entries, best first; `rank` is 1-based. */
  page(boardId: string, query: LeaderboardQuery = {}, options?: CallOptions): Promise<LeaderboardPage> {
    return this.api.get(board(boardId), { ...query }, options);
  }
  /** Every page of a period, in rank order. */
  async *pages(boardId: string, query: LeaderboardQuery = {}, options?: CallOptions): AsyncGenerator<LeaderboardPage> {
    for (let cursor = query.cursor; ; ) {
      const page = await this.page(boardId, { ...query, cursor }, options);
      yield page;
      if (!page.nextCursor) return;
      cursor = page.nextCursor;
    }
  }
  /** Every entry of a period: `for await (const entry of ludex.leaderboards.iterate("high-score"))`. */
  async *iterate(boardId: string, query: LeaderboardQuery = {}, options?: CallOptions): AsyncGenerator<LeaderboardEntry> {
    for await (const page of this.pages(boardId, query, options)) yield* page.items;
  }
  /**
   * The player's rank and score and the entries `around` it (fewer at the top and bottom edges).
   * Throws LudexError 404 `not-ranked` when the player has no score in that period.
   */
  aroundMe(boardId: string, playerId: string, query: StandingQuery = {}, options?: CallOptions): Promise<LeaderboardStanding> {
    return this.api.get(`${board(boardId)}${player(playerId)}`, { ...query }, options);
  }
}

const board = (boardId: string): string => `/leaderboards/${segment(boardId)}`;

class Flags {
  constructor(readonly api: Api) {}

  /** Every flag of the project's economy evaluated for the player (rollouts, rules, overrides). */
  get(playerId: string, options?: CallOptions): Promise<PlayerFlags> {
    return this.api.get(`${player(playerId)}/flags`, undefined, options);
  }
}

class Devices {
  constructor(readonly api: Api) {}

  /**
   * From now on the device id signs in as the session's player (an install moving onto an
   * account). A session's call only (403 `forbidden` with a key); 409 `device-linked` when the
   * device belongs to another player.
   */
  async link(deviceId: string, options?: CallOptions): Promise<void> {
    await this.#post("link", deviceId, options);
  }
  /** The device no longer signs in as the session's player; its next device sign-in makes a new one. */
  async unlink(deviceId: string, options?: CallOptions): Promise<void> {
    await this.#post("unlink", deviceId, options);
  }
  #post(action: string, deviceId: string, options?: CallOptions): Promise<unknown> {
    // Linking the same device twice links it once: safe to repeat.
    return this.api.transport.request({
      method: "POST",
      path: `${this.api.prefix}/auth/devices/${action}`,
      body: { deviceId },
      safeToRepeat: true,
      ...options,
    });
  }
}
