import { LudexError, type ProblemBody } from "./errors.js";
import {
  RETRYABLE_STATUSES,
  backoffDelayMs,
  retryAfterMs,
  sleep,
  type RetryPolicy,
} from "./retry.js";

/** What the SDK tells an `onRetry` hook before it waits and tries again (logging, metrics). */
export interface RetryInfo {
  method: string;
  path: string;
  /** The attempt that just failed, from 1. */
  attempt: number;
  delayMs: number;
  /** The HTTP status that caused the retry, or undefined for a network error or timeout. */
  status?: number;
  /** The server's `Retry-After`, in ms, when it sent one. */
  retryAfterMs?: number;
  error?: unknown;
  idempotencyKey?: string;
}

export type QueryValue = string | number | boolean | readonly (string | number)[] | null | undefined;

export interface TransportOptions {
  baseUrl: string;
  timeoutMs: number;
  retry: RetryPolicy;
  /** Headers for every call (credentials); async so the admin client can refresh its token. */
  headers: () => Record<string, string> | Promise<Record<string, string>>;
  fetch?: typeof fetch;
  onRetry?: (info: RetryInfo) => void;
  /**
   * A player session's answer to a 401: refresh the access token (throwing the server's problem
   * when that fails). The call is then sent once more, outside the retry budget.
   */
  onUnauthorized?: () => Promise<void>;
}

export interface CallOptions {
  /** Overrides the client's timeout for this call (each attempt). */
  timeoutMs?: number;
  /** Cancels the call, its retries and their waits. */
  signal?: AbortSignal;
}

export interface Request extends CallOptions {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  idempotencyKey?: string;
  /** Extra headers for this call (the admin client's bearer token). */
  headers?: Record<string, string>;
  /**
   * Whether a network failure after the request may have reached the server can be retried:
   * true for reads and for writes with an Idempotency-Key, false for other writes, which only
   * retry on statuses that say the server did not act (429, 502, 503, 504).
   */
  safeToRepeat: boolean;
}

/** Sends one API call with the retry policy; the only place the SDK touches `fetch`. */
export class Transport {
  readonly #options: TransportOptions;
  readonly #fetch: typeof fetch;

  constructor(options: TransportOptions) {
    this.#options = { ...options, baseUrl: options.baseUrl.replace(/\/+$/, "") };
    const platformFetch = options.fetch ?? globalThis.fetch;
    if (typeof platformFetch !== "function") {
      throw new TypeError("@ludex/sdk needs fetch (Node >= 18 or a browser) or a `fetch` option");
    }
    this.#fetch = platformFetch;
  }

  get baseUrl(): string {
    return this.#options.baseUrl;
  }

  async request<T>(request: Request): Promise<T> {
    const policy = this.#options.retry;
    const started = Date.now();
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      let failure: LudexError;
      let status: number | undefined;
      let waitAtLeastMs = 0;
      try {
        const answer = await this.#attempt(request);
        if (answer.ok) return answer.body as T;
        failure = answer.error;
        status = failure.status;
        if (status === 401 && !refreshed && this.#options.onUnauthorized !== undefined) {
          refreshed = true;
          await this.#options.onUnauthorized();
          attempt--;
          continue;
        }
        if (!RETRYABLE_STATUSES.has(status)) throw failure;
        waitAtLeastMs = answer.retryAfterMs ?? 0;
      } catch (error) {
        if (request.signal?.aborted) throw request.signal.reason;
        if (!(error instanceof LudexError) || error.status !== 0) throw error;
        failure = error;
        if (!request.safeToRepeat) throw failure;
      }
      const delayMs = Math.max(
        waitAtLeastMs,
        backoffDelayMs(attempt - 1, policy.baseDelayMs, policy.maxDelayMs),
      );
      if (attempt >= policy.maxAttempts || Date.now() - started + delayMs > policy.maxElapsedMs) {
        throw failure;
      }
      this.#options.onRetry?.({
        method: request.method,
        path: request.path,
        attempt,
        delayMs,
        status,
        retryAfterMs: status === undefined ? undefined : waitAtLeastMs,
        error: failure,
        idempotencyKey: request.idempotencyKey,
      });
      await sleep(delayMs, request.signal);
    }
  }

  async #attempt(
    request: Request,
  ): Promise<{ ok: true; body: unknown } | { ok: false; error: LudexError; retryAfterMs?: number }> {
    const headers: Record<string, string> = {
      accept: "application/json, application/problem+json",
      ...(await this.#options.headers()),
      ...request.headers,
    };
    if (request.body !== undefined) headers["content-type"] = "application/json";
    if (request.idempotencyKey !== undefined) headers["idempotency-key"] = request.idempotencyKey;
    const timeoutMs = request.timeoutMs ?? this.#options.timeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const onCallerAbort = (): void => controller.abort();
    request.signal?.addEventListener("abort", onCallerAbort, { once: true });
    try {
      const response = await this.#fetch(this.#url(request), {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: controller.signal,
        // Never follow a redirect: it would carry the key (or the bearer token) to wherever the
        // Location points, another origin included. The API never redirects; a proxy that does
        // is refused with `redirect-refused` (set `baseUrl` to the address it redirects to).
        redirect: "manual",
      });
      if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
        return { ok: false, error: redirectRefused(response) };
      }
      const text = await response.text();
      const requestId = response.headers.get("x-request-id") ?? undefined;
      if (response.ok) return { ok: true, body: text === "" ? undefined : JSON.parse(text) };
      return {
        ok: false,
        error: new LudexError(response.status, problemOf(text, response.status), requestId),
        retryAfterMs: retryAfterMs(response.headers.get("retry-after")),
      };
    } catch (error) {
      if (error instanceof LudexError) throw error;
      const timedOut = controller.signal.aborted && !request.signal?.aborted;
      throw new LudexError(
        0,
        {
          type: `https://ludex.dev/problems/${timedOut ? "timeout" : "network-error"}`,
          title: timedOut ? "Timeout" : "Network error",
          detail: timedOut
            ? `no answer from ${this.#options.baseUrl} within ${timeoutMs} ms`
            : `${request.method} ${request.path} failed: ${String((error as Error)?.cause ?? error)}`,
        },
        undefined,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onCallerAbort);
    }
  }

  #url(request: Request): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value === undefined || value === null) continue;
      const values = Array.isArray(value) ? value : [value];
      for (const item of values) params.append(name, String(item));
    }
    const search = params.toString();
    return `${this.#options.baseUrl}${request.path}${search === "" ? "" : `?${search}`}`;
  }
}

function redirectRefused(response: Response): LudexError {
  const location = response.headers.get("location");
  return new LudexError(response.status, {
    type: "https://ludex.dev/problems/redirect-refused",
    title: "Redirect refused",
    status: response.status,
    detail: `the server answered a redirect${location ? ` to ${location}` : ""}; the SDK does not follow redirects, so credentials never leave for another address: set baseUrl to the final address`,
  });
}

function problemOf(text: string, status: number): ProblemBody {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) {
      return parsed as ProblemBody;
    }
  } catch {
    // not JSON: a proxy's HTML error page, say; keep its text as the detail
  }
  return { status, detail: text.slice(0, 500) || `HTTP ${status}` };
}

/** Encodes one path segment (ids may hold `:` and `@`). */
export function segment(value: string): string {
  return encodeURIComponent(value);
}
