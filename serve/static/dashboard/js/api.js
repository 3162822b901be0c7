// @ts-check
// The console's only way to the server: the documented public API. Holds the session (access
// token in memory, refresh token in sessionStorage so a reload stays signed in), renews the
// access token silently before it expires or when the API answers 401 `invalid-token`, and
// turns problem+json answers into ApiError with the problem's `detail` and field `errors`.

const REFRESH_KEY = "ludex.refreshToken";
const listeners = new Set();
/** @type {{ access: string | null, expiresAt: number, timer: ReturnType<typeof setTimeout> | undefined }} */
const session = { access: null, expiresAt: 0, timer: undefined };
let refreshing = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.slug = (problem.type || "").split("/").pop();
    this.detail = this.message;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

/** Called with false when the session ends (sign-out, refresh refused). */
export function onSessionEnd(listener) {
  listeners.add(listener);
}

export function hasRefreshToken() {
  return Boolean(sessionStorage.getItem(REFRESH_KEY));
}

function keep(tokens) {
  session.access = tokens.accessToken;
  session.expiresAt = Date.now() + tokens.expiresIn * 1000;
  sessionStorage.setItem(REFRESH_KEY, tokens.refreshToken);
  clearTimeout(session.timer);
  // Renew a minute before expiry (or at half life for short tokens) so calls never wait on it.
  const lead = Math.min(60, tokens.expiresIn / 2) * 1000;
  session.timer = setTimeout(() => refresh().catch(() => {}), Math.max(1000, tokens.expiresIn * 1000 - lead));
}

function end() {
  session.access = null;
  clearTimeout(session.timer);
  // Everything the tab kept for this session goes: the refresh token and the console's keys.
  sessionStorage.clear();
  for (const listener of listeners) listener(false);
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return { detail: `${response.status} ${response.statusText}` };
  }
}

export async function signIn(email, password, totp) {
  const body = { email, password };
  if (totp) body.totp = totp;
  const response = await fetch("/v1/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  keep(await response.json());
}

/** One refresh at a time: a spent refresh token presented twice revokes the whole session. */
export function refresh() {
  if (!refreshing) {
    refreshing = (async () => {
      const refreshToken = sessionStorage.getItem(REFRESH_KEY);
      if (!refreshToken) throw new ApiError(401, { detail: "please sign in" });
      const response = await fetch("/v1/auth/refresh", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refreshToken }),
      });
      if (!response.ok) {
        const problem = await problemOf(response);
        end();
        throw new ApiError(response.status, problem);
      }
      keep(await response.json());
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

export async function signOut() {
  const refreshToken = sessionStorage.getItem(REFRESH_KEY);
  if (refreshToken) {
    await fetch("/v1/auth/logout", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ refreshToken }),
    }).catch(() => {});
  }
  end();
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params || {})) {
    if (value === null || value === undefined || value === "") continue;
    search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/**
 * @typedef {object} ApiOptions
 * @property {string} [method] HTTP method; GET when left out.
 * @property {unknown} [body] sent as JSON.
 * @property {Record<string, unknown>} [params] the query string; null, undefined and "" are left out.
 * @property {string | null} [tenant] x-tenant-id.
 * @property {string} [apiKey] a project key: calls the game API instead of with the dashboard token.
 * @property {boolean} [raw] answer the Response itself.
 */

/**
 * Calls the API as the signed-in user. `tenant` sets x-tenant-id; `apiKey` calls the game API
 * with a project key instead of the dashboard token. Answers parsed JSON (or the Response when
 * `raw`), throws ApiError with the problem otherwise. The answer is `any`: its shape is the
 * OpenAPI schema of the route (docs/openapi.json), which the pages read field by field.
 * @param {string} path
 * @param {ApiOptions} [options]
 * @returns {Promise<any>}
 */
export async function api(path, { method = "GET", body, params, tenant, apiKey, raw = false } = {}) {
  const send = async () => {
    /** @type {Record<string, string>} */
    const headers = {};
    if (apiKey) headers["x-api-key"] = apiKey;
    else if (session.access) headers.authorization = `Bearer ${session.access}`;
    if (tenant) headers["x-tenant-id"] = tenant;
    if (body !== undefined) headers["content-type"] = "application/json";
    return fetch(path + query(params), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  };
  if (!apiKey && (!session.access || Date.now() > session.expiresAt - 5000)) await refresh();
  let response = await send();
  if (!apiKey && response.status === 401) {
    const problem = await problemOf(response.clone());
    if ((problem.type || "").endsWith("/invalid-token")) {
      await refresh();
      response = await send();
    }
  }
  if (!response.ok) throw new ApiError(response.status, await problemOf(response));
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

/** Fetches a CSV (or any file) with the session's credentials and saves it. */
export async function download(path, options, filename) {
  const response = await api(path, { ...options, raw: true });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
