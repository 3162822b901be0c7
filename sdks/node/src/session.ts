import { LudexError } from "./errors.js";
import { retryPolicy, type RetryOption } from "./retry.js";
import { Transport, segment, type CallOptions, type RetryInfo } from "./transport.js";
import type { PlayerTokens } from "./types.js";

/**
 * Where a game keeps the player's refresh token between runs (localStorage, the keychain, a save
 * file): the SDK calls `save` after every sign-in and refresh (each refresh rotates the token,
 * and the old one is spent), `clear` on logout or when the server refuses it, and `load` in
 * `restore()`. The default, MemorySessionStorage, forgets it when the process ends.
 */
export interface SessionStorage {
  load(): string | null | undefined | Promise<string | null | undefined>;
  save(refreshToken: string): void | Promise<void>;
  clear(): void | Promise<void>;
}

/** Keeps the refresh token in memory only: a new run signs in again. */
export class MemorySessionStorage implements SessionStorage {
  #refreshToken: string | undefined;

  load(): string | undefined {
    return this.#refreshToken;
  }
  save(refreshToken: string): void {
    this.#refreshToken = refreshToken;
  }
  clear(): void {
    this.#refreshToken = undefined;
  }
}

export interface SessionOptions {
  /** e.g. `https://api.ludex.example` (no `/v1`). */
  baseUrl: string;
  tenantId: string;
  projectId: string;
  /** Where the refresh token lives between runs; default: in memory. */
  storage?: SessionStorage;
  /** Refresh this long before the access token expires; default 30 s. */
  refreshBeforeMs?: number;
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  retry?: RetryOption;
  onRetry?: (info: RetryInfo) => void;
  fetch?: typeof fetch;
}

/** The server's answer to a sign-in or a refresh (`expiresIn` in seconds). */
export type SessionTokens = PlayerTokens;

export interface SignedIn {
  playerId: string;
  created: boolean;
}

/**
 * A player's session, for a game client that must not hold an API key: sign in by device id or
 * by a token the studio's server signed, then hand it to `new Ludex({ session })`. It refreshes
 * the access token before it expires and once after a 401, one refresh at a time (refresh tokens
 * rotate: two refreshes with the same token would look like theft and end every session).
 * Uses only fetch, so it runs in browsers as in Node.
 */
export class Session {
  readonly baseUrl: string;
  readonly tenantId: string;
  readonly projectId: string;
  readonly #transport: Transport;
  readonly #storage: SessionStorage;
  readonly #refreshBeforeMs: number;
  #tokens: SessionTokens | undefined;
  #expiresAt = 0;
  #refreshing: Promise<void> | undefined;

  constructor(options: SessionOptions) {
    for (const name of ["baseUrl", "tenantId", "projectId"] as const) {
      if (typeof options[name] !== "string" || options[name] === "") {
        throw new TypeError(`Session: option ${name} is required`);
      }
    }
    this.baseUrl = options.baseUrl;
    this.tenantId = options.tenantId;
    this.projectId = options.projectId;
    this.#storage = options.storage ?? new MemorySessionStorage();
    this.#refreshBeforeMs = options.refreshBeforeMs ?? 30_000;
    this.#transport = new Transport({
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs ?? 10_000,
      retry: retryPolicy(options.retry),
      headers: () => ({ "x-tenant-id": options.tenantId }),
      fetch: options.fetch,
      onRetry: options.onRetry,
    });
  }

  /** The signed-in player's id, or undefined before sign-in and after logout. */
  get playerId(): string | undefined {
    return this.#tokens?.playerId;
  }

  get signedIn(): boolean {
    return this.#tokens !== undefined;
  }

  /** When the current access token expires (ms since the epoch), or undefined when signed out. */
  get expiresAt(): number | undefined {
    return this.#tokens === undefined ? undefined : this.#expiresAt;
  }

  /** Signs in the player linked to this install's id (16–128 chars), creating it on first use. */
  signInWithDevice(deviceId: string, profile: { username?: string } = {}, options?: CallOptions): Promise<SignedIn> {
    return this.#signIn("device", { deviceId, ...profile }, options);
  }

  /** Signs in the player a JWT from the studio's own server names (`sub`). */
  signInWithCustomToken(token: string, options?: CallOptions): Promise<SignedIn> {
    return this.#signIn("custom", { token }, options);
  }

  /**
   * Signs in again with the refresh token the storage kept from an earlier run. False when it
   * holds none, or the server refused it (spent, revoked, expired: the storage is cleared then);
   * other failures (the network) throw.
   */
  async restore(options?: CallOptions): Promise<boolean> {
    const refreshToken = await this.#storage.load();
    if (!refreshToken) return false;
    try {
      await this.#rotate(refreshToken, options);
      return true;
    } catch (error) {
      if (error instanceof LudexError && error.status === 401) return false;
      throw error;
    }
  }

  /** A new access token now (and a new refresh token: the old one is spent). */
  refresh(options?: CallOptions): Promise<void> {
    const refreshToken = this.#tokens?.refreshToken;
    if (refreshToken === undefined) return Promise.reject(notSignedIn());
    if (this.#refreshing === undefined) {
      this.#refreshing = this.#rotate(refreshToken, options).finally(() => {
        this.#refreshing = undefined;
      });
    }
    return this.#refreshing;
  }

  /** The access token to send, refreshed first when it expires within `refreshBeforeMs`. */
  async accessToken(options?: CallOptions): Promise<string> {
    if (this.#refreshing !== undefined) await this.#refreshing;
    if (this.#tokens === undefined) throw notSignedIn();
    if (Date.now() >= this.#expiresAt - this.#refreshBeforeMs) await this.refresh(options);
    return this.#tokens!.accessToken;
  }

  /** Ends this session on the server and forgets it here (the storage is cleared too). */
  async logout(options?: CallOptions): Promise<void> {
    const refreshToken = this.#tokens?.refreshToken ?? (await this.#storage.load()) ?? undefined;
    this.#tokens = undefined;
    await this.#storage.clear();
    if (refreshToken === undefined) return;
    await this.#transport.request({ method: "POST", path: this.#path("logout"), body: { refreshToken }, safeToRepeat: true, ...options });
  }

  async #signIn(kind: "device" | "custom", body: Record<string, unknown>, options?: CallOptions): Promise<SignedIn> {
    // A repeated sign-in only opens one more session of the same player: safe after a network error.
    const tokens = await this.#transport.request<SessionTokens>({ method: "POST", path: this.#path(kind), body, safeToRepeat: true, ...options });
    await this.#keep(tokens);
    return { playerId: tokens.playerId, created: tokens.created === true };
  }

  async #rotate(refreshToken: string, options?: CallOptions): Promise<void> {
    try {
      // Never repeated after a network error: the server may have spent the token already, and
      // sending it again would count as reuse and end every session of the player.
      const tokens = await this.#transport.request<SessionTokens>({
        method: "POST",
        path: this.#path("refresh"),
        body: { refreshToken },
        safeToRepeat: false,
        ...options,
      });
      await this.#keep({ ...tokens, playerId: tokens.playerId ?? this.#tokens?.playerId });
    } catch (error) {
      if (error instanceof LudexError && error.status === 401) {
        this.#tokens = undefined;
        await this.#storage.clear();
      }
      throw error;
    }
  }

  async #keep(tokens: SessionTokens): Promise<void> {
    this.#tokens = tokens;
    this.#expiresAt = Date.now() + tokens.expiresIn * 1000;
    await this.#storage.save(tokens.refreshToken);
  }

  #path(action: string): string {
    return `/v1/projects/${segment(this.projectId)}/auth/${action}`;
  }
}

function notSignedIn(): LudexError {
  return new LudexError(401, {
    type: "https://ludex.dev/problems/not-signed-in",
    title: "Not signed in",
    status: 401,
    detail: "the session has no tokens: sign in (or restore) first",
  });
}
