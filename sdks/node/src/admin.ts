import { LudexError } from "./errors.js";
import { retryPolicy, type RetryOption } from "./retry.js";
import { Transport, segment, type CallOptions, type QueryValue, type Request, type RetryInfo } from "./transport.js";
import type {
  ApiKey,
  ApiKeyCreated,
  ApiKeyIn,
  ApiKeyList,
  Delivery,
  DeliveryPage,
  Economy,
  Me,
  Project,
  ProjectIn,
  ProjectPage,
  Redriven,
  Tokens,
  Webhook,
  WebhookCreated,
  WebhookIn,
  WebhookPage,
  WebhookPatch,
} from "./types.js";

export interface LudexAdminOptions {
  baseUrl: string;
  /** The studio (`x-tenant-id`) that `/v1/client` calls act for. */
  tenantId?: string;
  /** With email and password the client signs in by itself on its first call. */
  email?: string;
  password?: string;
  timeoutMs?: number;
  retry?: RetryOption;
  onRetry?: (info: RetryInfo) => void;
  /** Called with every new token pair (login, refresh): persist it to resume a session. */
  onTokens?: (tokens: Tokens) => void;
  /** Refresh this long before the access token expires; default 60 s. */
  refreshBeforeExpiryMs?: number;
  fetch?: typeof fetch;
}

export interface PageQuery {
  cursor?: string;
  limit?: number;
  q?: string;
}

/**
 * The backoffice client, for scripts that automate a project (keys, webhooks, economy). It signs
 * in, refreshes its access token before expiry, and shares one refresh among concurrent calls:
 * refresh tokens are single use, and a second use of a spent one revokes the whole session.
 */
export class LudexAdmin {
  readonly apiKeys: ApiKeys;
  readonly webhooks: Webhooks;
  readonly economy: EconomyApi;
  readonly projects: Projects;
  readonly #options: LudexAdminOptions;
  readonly #transport: Transport;
  #tokens: Tokens | undefined;
  #expiresAt = 0;
  #refreshing: Promise<Tokens> | undefined;
  #signingIn: Promise<Tokens> | undefined;

  constructor(options: LudexAdminOptions) {
    this.#options = options;
    this.#transport = new Transport({
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs ?? 10_000,
      retry: retryPolicy(options.retry),
      headers: () => ({}),
      fetch: options.fetch,
      onRetry: options.onRetry,
    });
    this.apiKeys = new ApiKeys(this);
    this.webhooks = new Webhooks(this);
    this.economy = new EconomyApi(this);
    this.projects = new Projects(this);
  }

  /** The current token pair, if signed in. */
  get tokens(): Tokens | undefined {
    return this.#tokens;
  }

  async login(credentials?: { email: string; password: string; totp?: string }): Promise<Tokens> {
    const { email, password } = credentials ?? this.#options;
    if (!email || !password) throw new TypeError("LudexAdmin.login needs an email and a password");
    const body = credentials?.totp ? { email, password, totp: credentials.totp } : { email, password };
    return this.#accept(
      await this.#transport.request<Tokens>({ method: "POST", path: "/v1/auth/login", body, safeToRepeat: false }),
    );
  }

  /** A new token pair; concurrent callers share the one refresh in flight. */
  refresh(): Promise<Tokens> {
    this.#refreshing ??= (async () => {
      try {
        const refreshToken = this.#tokens?.refreshToken;
        if (refreshToken === undefined) return await this.login();
        return this.#accept(
          await this.#transport.request<Tokens>({
            method: "POST",
            path: "/v1/auth/refresh",
            body: { refreshToken },
            safeToRepeat: false,
          }),
        );
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  async logout(): Promise<void> {
    const refreshToken = this.#tokens?.refreshToken;
    this.#tokens = undefined;
    if (refreshToken === undefined) return;
    await this.#transport.request({ method: "POST", path: "/v1/auth/logout", body: { refreshToken }, safeToRepeat: false });
  }

  me(options?: CallOptions): Promise<Me> {
    return this.request("GET", "/v1/auth/me", options);
  }

  /**
   * Any backoffice call, authenticated (and with `x-tenant-id` for `/v1/client`). A 401 means the
   * session ended early (logout elsewhere, key rotation): refresh once and try again.
   */
  async request<T>(
    method: Request["method"],
    path: string,
    options: CallOptions & { body?: unknown; query?: Record<string, QueryValue> } = {},
  ): Promise<T> {
    for (let renewed = false; ; renewed = true) {
      const headers: Record<string, string> = { authorization: `Bearer ${await this.#accessToken()}` };
      if (path.startsWith("/v1/client/")) {
        if (!this.#options.tenantId) throw new TypeError("LudexAdmin: /v1/client calls need the tenantId option");
        headers["x-tenant-id"] = this.#options.tenantId;
      }
      try {
        return await this.#transport.request<T>({
          method,
          path,
          headers,
          safeToRepeat: method === "GET" || method === "PATCH" || method === "DELETE",
          ...options,
        });
      } catch (error) {
        if (renewed || !(error instanceof LudexError) || error.status !== 401) throw error;
        await this.refresh();
      }
    }
  }

  async #accessToken(): Promise<string> {
    if (this.#tokens === undefined) {
      this.#signingIn ??= this.login().finally(() => (this.#signingIn = undefined));
      await this.#signingIn;
    } else if (Date.now() >= this.#expiresAt - (this.#options.refreshBeforeExpiryMs ?? 60_000)) {
      await this.refresh();
    }
    return this.#tokens!.accessToken;
  }

  #accept(tokens: Tokens): Tokens {
    this.#tokens = tokens;
    this.#expiresAt = Date.now() + tokens.expiresIn * 1000;
    this.#options.onTokens?.(tokens);
    return tokens;
  }
}

const client = (projectId: string): string => `/v1/client/projects/${segment(projectId)}`;

class Projects {
  constructor(readonly admin: LudexAdmin) {}

  list(query: PageQuery = {}, options?: CallOptions): Promise<ProjectPage> {
    return this.admin.request("GET", "/v1/client/projects", { query: { ...query }, ...options });
  }
  get(projectId: string, options?: CallOptions): Promise<Project> {
    return this.admin.request("GET", client(projectId), options);
  }
  create(body: ProjectIn, options?: CallOptions): Promise<Project> {
    return this.admin.request("POST", "/v1/client/projects", { body, ...options });
  }
}

class ApiKeys {
  constructor(readonly admin: LudexAdmin) {}

  list(projectId: string, options?: CallOptions): Promise<ApiKeyList> {
    return this.admin.request("GET", `${client(projectId)}/api-keys`, options);
  }
  /** The answer's `apiKey` is the secret, shown only here. */
  create(projectId: string, body: ApiKeyIn, options?: CallOptions): Promise<ApiKeyCreated> {
    return this.admin.request("POST", `${client(projectId)}/api-keys`, { body, ...options });
  }
  revoke(projectId: string, keyId: string, options?: CallOptions): Promise<ApiKey> {
    return this.admin.request("POST", `${client(projectId)}/api-keys/${segment(keyId)}/revoke`, options);
  }
  /** A new secret; the old one keeps working 24 h. */
  rotate(projectId: string, keyId: string, options?: CallOptions): Promise<ApiKeyCreated> {
    return this.admin.request("POST", `${client(projectId)}/api-keys/${segment(keyId)}/rotate`, options);
  }
}

class Webhooks {
  constructor(readonly admin: LudexAdmin) {}

  list(projectId: string, query: PageQuery = {}, options?: CallOptions): Promise<WebhookPage> {
    return this.admin.request("GET", `${client(projectId)}/webhooks`, { query: { ...query }, ...options });
  }
  get(projectId: string, webhookId: string, options?: CallOptions): Promise<Webhook> {
    return this.admin.request("GET", `${client(projectId)}/webhooks/${segment(webhookId)}`, options);
  }
  /** The answer's `secret` (`whsec_...`) is shown only here: give it to your receiver. */
  create(projectId: string, body: WebhookIn, options?: CallOptions): Promise<WebhookCreated> {
    return this.admin.request("POST", `${client(projectId)}/webhooks`, { body, ...options });
  }
  update(projectId: string, webhookId: string, body: WebhookPatch, options?: CallOptions): Promise<Webhook> {
    return this.admin.request("PATCH", `${client(projectId)}/webhooks/${segment(webhookId)}`, { body, ...options });
  }
  async delete(projectId: string, webhookId: string, options?: CallOptions): Promise<void> {
    await this.admin.request("DELETE", `${client(projectId)}/webhooks/${segment(webhookId)}`, options);
  }
  deliveries(
    projectId: string,
    webhookId: string,
    query: PageQuery & { status?: "pending" | "failed" | "delivered" | "dead" } = {},
    options?: CallOptions,
  ): Promise<DeliveryPage> {
    return this.admin.request("GET", `${client(projectId)}/webhooks/${segment(webhookId)}/deliveries`, {
      query: { ...query },
      ...options,
    });
  }
  redrive(projectId: string, webhookId: string, deliveryId: string, options?: CallOptions): Promise<Delivery> {
    const path = `${client(projectId)}/webhooks/${segment(webhookId)}/deliveries/${segment(deliveryId)}/redrive`;
    return this.admin.request("POST", path, options);
  }
  /** Every dead delivery of the subscription back to pending. */
  redriveDead(projectId: string, webhookId: string, options?: CallOptions): Promise<Redriven> {
    return this.admin.request("POST", `${client(projectId)}/webhooks/${segment(webhookId)}/redrive`, options);
  }
}

class EconomyApi {
  constructor(readonly admin: LudexAdmin) {}

  get(projectId: string, options?: CallOptions): Promise<Economy> {
    return this.admin.request("GET", `${client(projectId)}/economy`, options);
  }
  /** Validates and installs the whole document as the next version (422 `invalid-definition`). */
  put(projectId: string, document: Record<string, unknown>, options?: CallOptions): Promise<Economy> {
    return this.admin.request("PUT", `${client(projectId)}/economy`, { body: document, ...options });
  }
}
