// @ts-check
// The console shell: sign-in, the session, role-aware navigation, tenant/project context and a
// small history-API router under /dashboard/. Pages live in admin.js, client.js, economy.js.
import { h, clear, put } from "./dom.js";
import { api, signIn, signOut, refresh, hasRefreshToken, onSessionEnd, ApiError } from "./api.js";
import { field, input, showError } from "./ui.js";
import { ADMIN_PAGES } from "./admin.js";
import { CLIENT_PAGES } from "./client.js";

const BASE = "/dashboard";
const CONTEXT_KEY = "ludex.context";
const root = document.getElementById("app");
/**
 * @typedef {{ tenantId: string, role: string, projects: string[] }} Membership
 * @typedef {{ userId: string, email: string, platformRole: string | null, memberships: Membership[] }} Me
 */
/**
 * The signed-in user (`GET /v1/auth/me`), the role table and the chosen tenant and project.
 * @type {{ me: Me | null, policy: Record<string, string[]>, tenants: string[], projects: any[], tenant: string | null, project: string | null }}
 */
const state = { me: null, policy: {}, tenants: [], projects: [], tenant: null, project: null };

/**
 * engine/rbac.py's `can`, over the same table (policy.json): only to hide what the API would refuse.
 * @param {string} action
 * @param {string | null} [tenant]
 * @param {string | null} [project]
 */
export function can(action, tenant = null, project = null) {
  const allowed = state.policy[action] || [];
  const me = state.me;
  if (!me) return false;
  if (me.platformRole && allowed.includes(me.platformRole)) return true;
  if (!tenant) return false;
  return me.memberships.some(
    (m) => m.tenantId === tenant && allowed.includes(m.role) && (project === null || m.projects.includes("*") || m.projects.includes(project)),
  );
}

export function go(path, { replace = false } = {}) {
  const url = path.startsWith(BASE) ? path : BASE + path;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  render();
}

addEventListener("popstate", () => render());
document.addEventListener("click", (event) => {
  const link = /** @type {Element} */ (event.target).closest("a[data-nav]");
  if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  go(link.getAttribute("href"));
});
onSessionEnd(() => {
  state.me = null;
  go("/signin", { replace: true });
});

function route() {
  const path = location.pathname.replace(/^\/dashboard\/?/, "").replace(/\/$/, "");
  const [area, page, ...rest] = path.split("/");
  return { area, page, rest };
}

async function boot() {
  try {
    state.policy = await (await fetch(`${BASE}/policy.json`)).json();
  } catch {
    state.policy = {};
  }
  if (hasRefreshToken()) {
    try {
      await refresh();
      await loadSession();
    } catch {
      state.me = null;
    }
  }
  render();
}

async function loadSession() {
  /** @type {Me} */
  const me = await api("/v1/auth/me");
  state.me = me;
  if (me.platformRole) {
    const page = await api("/v1/admin/tenants", { params: { limit: 200 } });
    state.tenants = page.items.map((t) => t.id);
  } else {
    state.tenants = [...new Set(me.memberships.map((m) => m.tenantId))];
  }
  const saved = JSON.parse(localStorage.getItem(CONTEXT_KEY) || "{}");
  const fromUrl = new URLSearchParams(location.search);
  const wanted = fromUrl.get("tenant") || saved.tenant;
  state.tenant = state.tenants.includes(wanted) ? wanted : state.tenants.includes("demo") ? "demo" : state.tenants[0] || null;
  await loadProjects(fromUrl.get("project") || saved.project);
}

async function loadProjects(wanted) {
  state.projects = [];
  if (state.tenant && can("projects:read", state.tenant)) {
    try {
      const page = await api("/v1/client/projects", { tenant: state.tenant, params: { limit: 200 } });
      state.projects = page.items.map((p) => p.id);
    } catch {
      state.projects = [];
    }
  } else if (state.tenant) {
    state.projects = [...new Set((state.me ? state.me.memberships : []).filter((m) => m.tenantId === state.tenant).flatMap((m) => m.projects))].filter((p) => p !== "*");
  }
  state.project = state.projects.includes(wanted) ? wanted : state.projects[0] || null;
  localStorage.setItem(CONTEXT_KEY, JSON.stringify({ tenant: state.tenant, project: state.project }));
}

export async function reloadProjects(select) {
  await loadProjects(select || state.project);
  render();
}

function render() {
  const { area, page } = route();
  if (!state.me) {
    if (area !== "signin") history.replaceState(null, "", `${BASE}/signin`);
    return renderSignIn();
  }
  if (!area || area === "signin") {
    const landing = state.tenant ? "/client/projects" : "/admin/tenants";
    return go(landing, { replace: true });
  }
  renderShell(area, page);
}

function renderSignIn() {
  document.title = "Sign in · Ludex";
  const errors = h("div", { class: "errors" });
  const email = input({ type: "email", name: "email", autocomplete: "username", required: true });
  const password = input({ type: "password", name: "password", autocomplete: "current-password", required: true });
  const totp = input({ name: "totp", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}" });
  const totpField = field("TOTP code", totp, { hint: "The 6-digit code from your authenticator app." });
  totpField.hidden = true;
  const submit = h("button", { type: "submit", class: "primary wide" }, "Sign in");
  const form = h(
    "form",
    { class: "signin-form" },
    errors,
    field("Email", email),
    field("Password", password),
    totpField,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      await signIn(email.value.trim(), password.value, totpField.hidden ? undefined : totp.value.trim());
      await loadSession();
      go("/", { replace: true });
    } catch (error) {
      if (error instanceof ApiError && error.slug === "totp-required") {
        totpField.hidden = false;
        put(clear(errors), h("div", { class: "notice", role: "status" }, "Enter the code from your authenticator app."));
        totp.focus();
      } else {
        showError(errors, error);
      }
    } finally {
      submit.disabled = false;
    }
  });
  put(clear(root), 
    h(
      "main",
      { class: "signin" },
      h(
        "div",
        { class: "signin-card" },
        h("div", { class: "brand big" }, h("span", { class: "logo", "aria-hidden": "true" }, "L"), "Ludex"),
        h("h1", {}, "Sign in to the console"),
        h("p", { class: "hint" }, "Use your Ludex backoffice account."),
        form,
      ),
    ),
  );
  email.focus();
}

function navLink(area, slug, label, current) {
  const search = area === "client" && state.tenant ? `?tenant=${encodeURIComponent(state.tenant)}${state.project ? `&project=${encodeURIComponent(state.project)}` : ""}` : "";
  return h("li", {}, h("a", { href: `${BASE}/${area}/${slug}${search}`, "data-nav": true, "aria-current": current ? "page" : null }, label));
}

function contextPicker() {
  const tenant = h(
    "select",
    { id: "ctx-tenant", "aria-label": "Tenant" },
    state.tenants.map((t) => h("option", { value: t, selected: t === state.tenant }, t)),
  );
  const project = h(
    "select",
    { id: "ctx-project", "aria-label": "Project" },
    state.projects.length ? state.projects.map((p) => h("option", { value: p, selected: p === state.project }, p)) : h("option", { value: "" }, "no project yet"),
  );
  tenant.addEventListener("change", async () => {
    state.tenant = tenant.value;
    await loadProjects(null);
    render();
  });
  project.addEventListener("change", () => {
    state.project = project.value;
    localStorage.setItem(CONTEXT_KEY, JSON.stringify({ tenant: state.tenant, project: state.project }));
    render();
  });
  return h(
    "div",
    { class: "context" },
    h("label", { for: "ctx-tenant" }, "Tenant"),
    tenant,
    h("label", { for: "ctx-project" }, "Project"),
    project,
  );
}

function renderShell(area, slug) {
  const me = /** @type {Me} */ (state.me); // the shell is drawn only for a signed-in user
  const adminPages = ADMIN_PAGES.filter((p) => can(p.action));
  const clientPages = CLIENT_PAGES.filter((p) => state.tenant && can(p.action, state.tenant));
  const nav = h(
    "nav",
    { class: "sidebar", "aria-label": "Main" },
    h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }, "L"), "Ludex"),
    adminPages.length
      ? h("div", { class: "nav-group" }, h("p", { class: "nav-title" }, "Admin"), h("ul", {}, adminPages.map((p) => navLink("admin", p.slug, p.title, area === "admin" && slug === p.slug))))
      : null,
    state.tenants.length
      ? h(
          "div",
          { class: "nav-group" },
          h("p", { class: "nav-title" }, "Studio"),
          contextPicker(),
          h("ul", {}, clientPages.map((p) => navLink("client", p.slug, p.title, area === "client" && slug === p.slug))),
        )
      : null,
  );
  const role = me.platformRole || me.memberships.map((m) => `${m.role} @ ${m.tenantId}`).join(", ") || "no role";
  const signOutButton = h("button", { type: "button", class: "secondary" }, "Sign out");
  signOutButton.addEventListener("click", () => signOut());
  const main = h("main", { class: "content", id: "main" });
  const top = h(
    "header",
    { class: "topbar" },
    h("div", { class: "who" }, h("span", { class: "email" }, me.email), h("span", { class: "badge neutral" }, role)),
    h("a", { href: "/v1/docs", class: "link", target: "_blank", rel: "noopener" }, "API docs"),
    signOutButton,
  );
  put(clear(root), h("div", { class: "shell" }, nav, h("div", { class: "page" }, top, main)));
  const pages = area === "admin" ? ADMIN_PAGES : area === "client" ? CLIENT_PAGES : [];
  const page = pages.find((p) => p.slug === slug);
  const allowed = page && (area === "admin" ? can(page.action) : state.tenant && can(page.action, state.tenant));
  if (!page || !allowed) {
    document.title = "Not available · Ludex";
    put(main, 
      h("h1", {}, page ? "Not allowed" : "Page not found"),
      h("p", { class: "hint" }, page ? "Your role does not give access to this page. Ask an administrator if you need it." : "Pick a page from the navigation."),
    );
    return;
  }
  document.title = `${page.title} · Ludex`;
  const context = { tenant: state.tenant, project: state.project, me: state.me, can, go, reloadProjects, main };
  put(main, h("h1", {}, page.title));
  Promise.resolve(page.render(context)).catch((error) => showError(main, error));
}

boot();
