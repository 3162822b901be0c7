// @ts-check
// Admin area (platform roles): tenants, plans and quotas, metrics, usage, audit, users.
import { h, clear, when, number, put } from "./dom.js";
import { api, download } from "./api.js";
import { field, input, select, button, showError, notice, dialog, confirmAction, table, empty, paginated, badge, card, toolbar, json } from "./ui.js";
import { lineChart } from "./charts.js";

const QUOTAS = [
  ["requestsPerMonth", "Requests per month"],
  ["eventsPerMonth", "Events per month"],
  ["players", "Players"],
  ["projects", "Projects"],
  ["apiRequestsPerSecond", "API requests per second"],
];

async function planOptions() {
  const plans = await api("/v1/admin/plans");
  return plans.items.map((p) => [p.id, `${p.name} (${p.id})`]);
}

async function tenants(ctx) {
  const { main, can } = ctx;
  const messages = h("div");
  const search = input({ type: "search", placeholder: "id or name" });
  const plans = await planOptions().catch(() => []);
  const list = paginated(
    (cursor) => api("/v1/admin/tenants", { params: { q: search.value.trim(), cursor, limit: 20 } }),
    (items) =>
      table(
        [
          ["Tenant", (t) => h("div", {}, h("strong", {}, t.name), h("div", { class: "hint mono" }, t.id))],
          ["Plan", (t) => (can("tenants:write") ? planSelect(t) : badge(t.planId || "none"))],
          ["Status", (t) => badge(t.suspended ? "suspended" : "active", t.suspended ? "warn" : "good")],
          ["Created", (t) => when(t.createdAt)],
          ["", (t) => (can("tenants:write") ? h("div", { class: "row-actions" }, button(t.suspended ? "Resume" : "Suspend", () => suspend(t, !t.suspended), { class: "ghost", "aria-label": `${t.suspended ? "Resume" : "Suspend"} tenant ${t.id}` }), button("Delete", () => remove(t), { class: "danger ghost", "aria-label": `Delete tenant ${t.id}` })) : null)],
        ],
        items,
      ),
    empty("No tenants match.", can("tenants:write") ? "Create the first one with “New tenant”." : "Try another search."),
  );
  function planSelect(t) {
    const choice = select(plans, { value: t.planId, "aria-label": `Plan of ${t.id}` });
    choice.addEventListener("change", async () => {
      try {
        await api(`/v1/admin/tenants/${encodeURIComponent(t.id)}`, { method: "PATCH", body: { planId: choice.value } });
        notice(messages, `Tenant ${t.id} is now on plan ${choice.value}.`);
      } catch (error) {
        showError(messages, error);
        choice.value = t.planId;
      }
    });
    return choice;
  }
  async function suspend(t, suspended) {
    const question = suspended
      ? `Suspend tenant “${t.name}” (${t.id})? Its API keys and realtime sockets are refused until you resume it; its data stays.`
      : `Resume tenant “${t.name}” (${t.id})? Its API keys work again at once.`;
    if (!(await confirmAction(question, suspended ? "Suspend tenant" : "Resume tenant"))) return;
    try {
      await api(`/v1/admin/tenants/${encodeURIComponent(t.id)}`, { method: "PATCH", body: { suspended } });
      notice(messages, `Tenant ${t.id} ${suspended ? "suspended" : "resumed"}.`);
      list.reload();
    } catch (error) {
      showError(messages, error);
    }
  }
  async function remove(t) {
    if (!(await confirmAction(`Delete tenant “${t.name}” (${t.id})? Its projects and keys stop working at once.`, "Delete tenant"))) return;
    try {
      await api(`/v1/admin/tenants/${encodeURIComponent(t.id)}`, { method: "DELETE" });
      notice(messages, `Tenant ${t.id} deleted.`);
      list.reload();
    } catch (error) {
      showError(messages, error);
    }
  }
  async function create() {
    const id = input({ required: true, pattern: "[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}" });
    const name = input({ required: true });
    const plan = select(plans, { value: "free" });
    const created = await dialog("New tenant", h("div", {}, field("Tenant ID", id, { path: "id", hint: "Letters, digits, - _ . : @" }), field("Name", name, { path: "name" }), field("Plan", plan, { path: "planId" })), {
      submitLabel: "Create tenant",
      onSubmit: () => api("/v1/admin/tenants", { method: "POST", body: { id: id.value.trim(), name: name.value.trim(), planId: plan.value } }),
    });
    if (created) {
      notice(messages, `Tenant ${created.id} created.`);
      list.reload();
    }
  }
  search.addEventListener("input", debounce(() => list.reload(), 250));
  put(main, 
    toolbar(field("Search tenants", search), h("span", { class: "grow" }), can("tenants:write") ? button("New tenant", create, { class: "primary" }) : null),
    messages,
    card(null, list.element),
  );
  list.reload();
}

function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

function quotaInput(value) {
  return input({ type: "number", min: 0, step: 1, value: value ?? "", placeholder: "unlimited" });
}

const RETENTION = [
  ["eventsDays", "Keep events (days)"],
  ["deliveriesDays", "Keep webhook deliveries (days)"],
  ["idempotencyDays", "Keep idempotency answers (days)"],
];

/** `purchase=20, credit=100` ⇄ `{purchase: 20, credit: 100}` (empty: no per-operation limit). */
function opRatesText(rates) {
  return Object.entries(rates || {}).map(([op, rate]) => `${op}=${rate}`).join(", ");
}

function opRates(text) {
  const pairs = text.split(",").map((part) => part.trim()).filter(Boolean);
  if (!pairs.length) return null;
  return Object.fromEntries(pairs.map((pair) => {
    const [op, rate] = pair.split("=").map((x) => x.trim());
    return [op, Number(rate)];
  }));
}

async function plans(ctx) {
  const { main, can } = ctx;
  const messages = h("div");
  const holder = h("div");
  async function show() {
    try {
      const page = await api("/v1/admin/plans");
      put(clear(holder), 
        page.items.length
          ? table(
              /** @type {import("./ui.js").Column[]} */ ([
                ["Plan", (p) => h("div", {}, h("strong", {}, p.name), h("div", { class: "hint mono" }, p.id))],
                ...QUOTAS.map(([key, label]) => [label, (p) => number(p[key])]),
                ["", (p) => (can("plans:write") ? h("div", { class: "row-actions" }, button("Edit", () => edit(p), { "aria-label": `Edit plan ${p.id}` }), button("Delete", () => remove(p), { class: "danger ghost", "aria-label": `Delete plan ${p.id}` })) : null)],
              ]),
              page.items,
            )
          : empty("No plans yet.", "Create one with “New plan”."),
      );
    } catch (error) {
      showError(holder, error);
    }
  }
  async function edit(plan) {
    const id = input({ required: true, value: plan ? plan.id : "", readonly: Boolean(plan) });
    const name = input({ required: true, value: plan ? plan.name : "" });
    /** @type {Array<[string, HTMLInputElement, string]>} */
    const quotas = QUOTAS.map(([key, label]) => [key, quotaInput(plan ? plan[key] : null), label]);
    const perOp = input({ value: opRatesText(plan && plan.operationRatesPerSecond), placeholder: "purchase=20, credit=100" });
    const kept = (plan && plan.retention) || {};
    /** @type {Array<[string, HTMLInputElement, string]>} */
    const retention = RETENTION.map(([key, label]) => [key, input({ type: "number", min: 0, step: "any", value: kept[key] ?? "", placeholder: "platform's" }), label]);
    const saved = await dialog(
      plan ? `Edit plan ${plan.id}` : "New plan",
      h(
        "div",
        { class: "grid-2" },
        field("Plan ID", id, { path: "id" }),
        field("Name", name, { path: "name" }),
        quotas.map(([key, control, label]) => field(label, control, { path: key, hint: "Empty: unlimited" })),
        field("Operations per second", perOp, { path: "operationRatesPerSecond", hint: "op=rate for the whole tenant; empty: none" }),
        retention.map(([key, control, label]) => field(label, control, { path: `retention.${key}`, hint: "Empty: the platform's" })),
      ),
      {
        submitLabel: plan ? "Save plan" : "Create plan",
        onSubmit: () => {
          const body = { id: id.value.trim(), name: name.value.trim() };
          for (const [key, control] of quotas) body[key] = control.value === "" ? null : Number(control.value);
          body.operationRatesPerSecond = opRates(perOp.value);
          const days = Object.fromEntries(retention.filter(([, control]) => control.value !== "").map(([key, control]) => [key, Number(control.value)]));
          body.retention = Object.keys(days).length ? days : null;
          return plan
            ? api(`/v1/admin/plans/${encodeURIComponent(plan.id)}`, { method: "PUT", body })
            : api("/v1/admin/plans", { method: "POST", body });
        },
      },
    );
    if (saved) {
      notice(messages, `Plan ${saved.id} saved.`);
      show();
    }
  }
  async function remove(plan) {
    if (!(await confirmAction(`Delete plan “${plan.name}”? A plan in use cannot be deleted.`, "Delete plan"))) return;
    try {
      await api(`/v1/admin/plans/${encodeURIComponent(plan.id)}`, { method: "DELETE" });
      notice(messages, `Plan ${plan.id} deleted.`);
      show();
    } catch (error) {
      showError(messages, error);
    }
  }
  put(main, toolbar(h("p", { class: "hint" }, "Quotas apply per tenant and UTC month."), h("span", { class: "grow" }), can("plans:write") ? button("New plan", () => edit(null), { class: "primary" }) : null), messages, card(null, holder));
  show();
}

function stat(label, value, tone) {
  return h("div", { class: `stat ${tone || ""}` }, h("p", { class: "stat-label" }, label), h("p", { class: "stat-value" }, value));
}

async function allUsage(params = {}) {
  const rows = [];
  let cursor = null;
  for (let i = 0; i < 20; i += 1) {
    const page = await api("/v1/admin/usage", { params: { ...params, cursor, limit: 200 } });
    rows.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return rows;
}

async function metrics(ctx) {
  const { main } = ctx;
  const [current, usage] = await Promise.all([api("/v1/admin/metrics"), allUsage()]);
  const ok = current.deliveries.ok;
  const failed = current.deliveries.failed;
  const months = [...new Set(usage.map((r) => r.month))].sort();
  const sum = (key) => months.map((m) => usage.filter((r) => r.month === m).reduce((total, r) => total + (r[key] || 0), 0));
  put(main, 
    h("p", { class: "hint" }, `This month: ${current.month} (UTC).`),
    h(
      "div",
      { class: "stats" },
      stat("Tenants", number(current.tenants)),
      stat("Projects", number(current.projects)),
      stat("Players", number(current.players)),
      stat("Events this month", number(current.eventsThisMonth)),
      stat("Requests this month", number(current.requestsThisMonth)),
      stat("Webhook deliveries ok", number(ok), "good"),
      stat("Webhook deliveries failed", number(failed), failed ? "bad" : ""),
    ),
    card(
      "Events and requests per month",
      months.length ? lineChart("Events and requests per month", months, [{ name: "Events", values: sum("events") }, { name: "Requests", values: sum("requests") }]) : empty("No usage recorded yet.", "Usage appears once game clients call the API."),
    ),
    card(
      "Quota use this month",
      current.quotaUse.length
        ? table(
            [
              ["Tenant", (r) => r.tenantId],
              ["Plan", (r) => r.planId || "—"],
              ["Events", (r) => `${number(r.events)} / ${number(r.eventsPerMonth)}`],
              ["Use", (r) => meter(r.eventsUse)],
              ["Requests", (r) => `${number(r.requests)} / ${number(r.requestsPerMonth)}`],
              ["Use", (r) => meter(r.requestsUse)],
            ],
            current.quotaUse,
          )
        : empty("No live tenants."),
    ),
  );
}

function meter(fraction) {
  if (fraction === null || fraction === undefined) return h("span", { class: "hint" }, "unlimited");
  const percent = Math.round(fraction * 1000) / 10;
  return h("div", { class: "meter", title: `${percent}%` }, h("span", { style: `width:${Math.min(100, percent)}%`, class: percent >= 90 ? "bad" : percent >= 70 ? "warn" : "" }), h("em", {}, `${percent}%`));
}

async function usage(ctx) {
  const { main } = ctx;
  const tenant = input({ placeholder: "all tenants" });
  const month = input({ type: "month" });
  const messages = h("div");
  const params = () => ({ tenantId: tenant.value.trim(), month: month.value });
  const list = paginated(
    (cursor) => api("/v1/admin/usage", { params: { ...params(), cursor, limit: 25 } }),
    (items) =>
      table(
        [
          ["Month", (r) => r.month],
          ["Tenant", (r) => r.tenantId],
          ["Plan", (r) => r.planId || "—"],
          ["Requests", (r) => number(r.requests)],
          ["Events", (r) => number(r.events)],
          ["Events quota", (r) => meter(r.eventsUse)],
        ],
        items,
      ),
    empty("No usage for these filters.", "Usage is counted from the first game API call of a month."),
  );
  const csv = button("Download CSV", async () => {
    try {
      await download("/v1/admin/usage", { params: { ...params(), format: "csv" } }, `ludex-usage${month.value ? `-${month.value}` : ""}.csv`);
    } catch (error) {
      showError(messages, error);
    }
  });
  const apply = button("Apply filters", () => list.reload(), { class: "primary" });
  put(main, toolbar(field("Tenant", tenant), field("Month", month), apply, h("span", { class: "grow" }), csv), messages, card(null, list.element));
  list.reload();
}

async function audit(ctx) {
  const { main } = ctx;
  const filters = {
    tenantId: input({ placeholder: "any" }),
    actor: input({ placeholder: "email" }),
    action: input({ placeholder: "e.g. api-key.revoke" }),
    target: input({ placeholder: "id" }),
  };
  const list = paginated(
    (cursor) => {
      const params = { cursor, limit: 25 };
      for (const [key, control] of Object.entries(filters)) params[key] = control.value.trim();
      return api("/v1/admin/audit", { params });
    },
    (items) =>
      table(
        [
          ["When", (e) => when(e.occurredAt)],
          ["#", (e) => (e.seq == null ? "—" : String(e.seq))],
          ["Actor", (e) => e.actor || "(erased)"],
          ["Action", (e) => badge(e.action)],
          ["Target", (e) => h("span", { class: "mono" }, e.target)],
          ["Tenant", (e) => e.tenantId || "—"],
          ["Change", (e) => h("details", {}, h("summary", {}, "Before / after"), h("div", { class: "grid-2" }, json(e.before), json(e.after)))],
        ],
        items,
      ),
    empty("No audit entries match.", "Every backoffice change is recorded here."),
  );
  const head = h("div", { "aria-live": "polite" });
  const messages = h("div");
  const showHead = async () => {
    const tenantId = filters.tenantId.value.trim();
    try {
      const found = await api("/v1/admin/audit/head", { params: { tenantId } });
      const chain = tenantId ? `Tenant ${tenantId}` : "Platform-wide changes";
      put(
        clear(head),
        h("p", {}, `${chain}: ${found.seq} chained entries. Note the head down; \`ludex audit verify --expect <hash>\` proves nothing before it changed.`),
        h("p", {}, "Head hash: ", h("span", { class: "mono", "aria-label": "Chain head hash" }, found.hash || "none yet")),
      );
    } catch (error) {
      showError(messages, error);
    }
  };
  const apply = () => {
    list.reload();
    showHead();
  };
  put(main, 
    toolbar(field("Tenant", filters.tenantId), field("Actor", filters.actor), field("Action", filters.action), field("Target", filters.target), button("Apply filters", apply, { class: "primary" })),
    messages,
    card("Chain head", head),
    card(null, list.element),
  );
  apply();
}

async function users(ctx) {
  const { main, can } = ctx;
  const messages = h("div");
  const list = paginated(
    (cursor) => api("/v1/admin/users", { params: { cursor, limit: 25 } }),
    (items) =>
      table(
        [
          ["Email", (u) => h("strong", {}, u.email)],
          ["Platform role", (u) => (can("users:write") ? roleSelect(u) : u.platformRole || "—")],
          ["Tenant roles", (u) => u.memberships.map((m) => badge(`${m.role} @ ${m.tenantId}`)) || "—"],
          ["2FA", (u) => (u.totpEnabled ? badge("on", "good") : badge("off"))],
          ["Status", (u) => (u.disabled ? badge("disabled", "bad") : badge("active", "good"))],
          ["", (u) => (can("users:write") ? button(u.disabled ? "Enable" : "Disable", () => toggle(u), { class: u.disabled ? "secondary" : "danger ghost", "aria-label": `${u.disabled ? "Enable" : "Disable"} ${u.email}` }) : null)],
        ],
        items,
      ),
    empty("No users yet."),
  );
  const ROLES = [["", "none"], ["support", "support"], ["admin", "admin"], ["superadmin", "superadmin"]];
  function roleSelect(u) {
    const choice = select(ROLES, { value: u.platformRole || "", "aria-label": `Platform role of ${u.email}` });
    choice.addEventListener("change", async () => {
      try {
        await api(`/v1/admin/users/${encodeURIComponent(u.id)}`, { method: "PATCH", body: { platformRole: choice.value || null } });
        notice(messages, `${u.email} is now ${choice.value || "without a platform role"}.`);
      } catch (error) {
        showError(messages, error);
      }
    });
    return choice;
  }
  async function toggle(u) {
    if (!u.disabled && !(await confirmAction(`Disable ${u.email}? They are signed out at once.`, "Disable user"))) return;
    try {
      await api(`/v1/admin/users/${encodeURIComponent(u.id)}`, { method: "PATCH", body: { disabled: !u.disabled } });
      list.reload();
    } catch (error) {
      showError(messages, error);
    }
  }
  async function create() {
    const email = input({ type: "email", required: true });
    const password = input({ type: "password", required: true, minlength: 12, autocomplete: "new-password" });
    const role = select(ROLES, { value: "support" });
    const created = await dialog("New user", h("div", {}, field("Email", email, { path: "email" }), field("Password", password, { path: "password", hint: "At least 12 characters." }), field("Platform role", role, { path: "platformRole" })), {
      submitLabel: "Create user",
      onSubmit: () => api("/v1/admin/users", { method: "POST", body: { email: email.value.trim(), password: password.value, platformRole: role.value || null } }),
    });
    if (created) {
      notice(messages, `User ${created.email} created.`);
      list.reload();
    }
  }
  put(main, toolbar(h("p", { class: "hint" }, "Dashboard accounts and their roles. Tenant members are managed by each tenant's owners."), h("span", { class: "grow" }), can("users:write") ? button("New user", create, { class: "primary" }) : null), messages, card(null, list.element));
  list.reload();
}

export const ADMIN_PAGES = [
  { slug: "tenants", title: "Tenants", action: "tenants:read", render: tenants },
  { slug: "plans", title: "Plans", action: "plans:read", render: plans },
  { slug: "metrics", title: "Metrics", action: "platform:metrics", render: metrics },
  { slug: "usage", title: "Usage", action: "usage:read", render: usage },
  { slug: "audit", title: "Audit", action: "audit:read", render: audit },
  { slug: "users", title: "Users", action: "users:read", render: users },
];
