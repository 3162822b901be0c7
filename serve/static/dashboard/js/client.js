// Client area (tenant roles, scoped to the chosen project): projects, API keys, webhooks, the
// live event feed, reports and player lookup. The economy editor is economy.js.
import { h, clear, when, number, put } from "./dom.js";
import { api, download, ApiError } from "./api.js";
import { field, input, select, button, showError, notice, dialog, confirmAction, secretOnce, table, empty, paginated, badge, card, toolbar } from "./ui.js";
import { lineChart, barChart } from "./charts.js";
import { economy } from "./economy.js";

const SCOPES = ["players:read", "players:write", "economy:write", "store:purchase", "events:read", "realtime"];
const enc = encodeURIComponent;

function needProject(ctx) {
  if (ctx.project) return false;
  put(ctx.main, empty("No project selected.", "Create a project on the Projects page, then pick it in the sidebar."));
  return true;
}

function projectPath(ctx, rest = "") {
  return `/v1/client/projects/${enc(ctx.project)}${rest}`;
}

async function projects(ctx) {
  const { main, tenant, can } = ctx;
  const messages = h("div");
  const list = paginated(
    (cursor) => api("/v1/client/projects", { tenant, params: { cursor, limit: 20 } }),
    (items) =>
      table(
        [
          ["Project", (p) => h("div", {}, h("strong", {}, p.name), h("div", { class: "hint mono" }, p.id))],
          ["Created", (p) => when(p.createdAt)],
          ["", (p) => (p.id === ctx.project ? badge("selected", "good") : button("Open", () => ctx.reloadProjects(p.id), { "aria-label": `Open project ${p.id}` }))],
          [
            "",
            (p) =>
              can("projects:write", tenant, p.id)
                ? h("div", { class: "row-actions" }, button("Rename", () => rename(p), { "aria-label": `Rename project ${p.id}` }), button("Delete", () => remove(p), { class: "danger ghost", "aria-label": `Delete project ${p.id}` }))
                : null,
          ],
        ],
        items,
      ),
    empty("This tenant has no projects yet.", can("projects:write", tenant) ? "Create one with “New project”, then define its economy." : "Ask an owner to create one."),
  );
  async function create() {
    const id = input({ required: true });
    const name = input({ required: true });
    const created = await dialog("New project", h("div", {}, field("Project ID", id, { path: "id" }), field("Name", name, { path: "name" })), {
      submitLabel: "Create project",
      onSubmit: () => api("/v1/client/projects", { method: "POST", tenant, body: { id: id.value.trim(), name: name.value.trim() } }),
    });
    if (created) await ctx.reloadProjects(created.id);
  }
  async function rename(p) {
    const name = input({ required: true, value: p.name });
    const saved = await dialog(`Rename ${p.id}`, field("Name", name, { path: "name" }), {
      onSubmit: () => api(`/v1/client/projects/${enc(p.id)}`, { method: "PATCH", tenant, body: { name: name.value.trim() } }),
    });
    if (saved) list.reload();
  }
  async function remove(p) {
    if (!(await confirmAction(`Delete project “${p.name}”? Its API keys stop working at once.`, "Delete project"))) return;
    try {
      await api(`/v1/client/projects/${enc(p.id)}`, { method: "DELETE", tenant });
      await ctx.reloadProjects(null);
    } catch (error) {
      showError(messages, error);
    }
  }
  put(main, toolbar(h("p", { class: "hint" }, `Projects of tenant ${tenant}.`), h("span", { class: "grow" }), can("projects:write", tenant) ? button("New project", create, { class: "primary" }) : null), messages, card(null, list.element));
  list.reload();
}

function keyStatus(key) {
  if (key.revokedAt && new Date(key.revokedAt) <= new Date()) return badge("revoked", "bad");
  if (key.revokedAt) return badge(`valid until ${when(key.revokedAt)}`, "warn");
  if (key.expiresAt && new Date(key.expiresAt) <= new Date()) return badge("expired", "bad");
  return badge("active", "good");
}

async function showSecret(title, label, secret) {
  await dialog(title, secretOnce(label, secret), { submitLabel: "Done" });
}

async function apiKeys(ctx) {
  if (needProject(ctx)) return;
  const { main, tenant, project, can } = ctx;
  const writable = can("api-keys:write", tenant, project);
  const messages = h("div");
  const holder = h("div");
  async function show() {
    try {
      const page = await api(projectPath(ctx, "/api-keys"), { tenant });
      put(clear(holder), 
        page.items.length
          ? table(
              [
                ["Name", (k) => h("strong", {}, k.name)],
                ["Key", (k) => h("span", { class: "mono" }, `${k.prefix}…`)],
                ["Scopes", (k) => h("div", { class: "badges" }, k.scopes.map((scope) => badge(scope)))],
                ["Expires", (k) => (k.expiresAt ? when(k.expiresAt) : "never")],
                ["Created", (k) => when(k.createdAt)],
                ["Status", keyStatus],
                [
                  "",
                  (k) =>
                    writable && !k.revokedAt
                      ? h("div", { class: "row-actions" }, button("Rotate", () => rotate(k), { "aria-label": `Rotate ${k.name}` }), button("Revoke", () => revoke(k), { class: "danger ghost", "aria-label": `Revoke ${k.name}` }))
                      : null,
                ],
              ],
              page.items,
            )
          : empty("No API keys yet.", writable ? "Create one with “New API key” and give it to your game server." : "Ask a developer to create one."),
      );
    } catch (error) {
      showError(holder, error);
    }
  }
  async function create() {
    const name = input({ required: true });
    const boxes = SCOPES.map((scope) => [scope, h("input", { type: "checkbox", value: scope, id: `scope-${scope}`, checked: scope.startsWith("players") })]);
    const expires = input({ type: "datetime-local" });
    const rate = input({ type: "number", min: 1, placeholder: "plan default" });
    const created = await dialog(
      "New API key",
      h(
        "div",
        {},
        field("Name", name, { path: "name" }),
        h("fieldset", { class: "scopes", "data-field": "scopes", id: "scopes-set" }, h("legend", {}, "Scopes"), boxes.map(([scope, box]) => h("label", { class: "check" }, box, scope)), h("p", { class: "field-error", id: "scopes-set-error", hidden: true })),
        field("Expires", expires, { path: "expiresAt", hint: "Optional; your local time." }),
        field("Rate limit per second", rate, { path: "rateLimitPerSecond" }),
      ),
      {
        submitLabel: "Create key",
        onSubmit: () => {
          const body = { name: name.value.trim(), scopes: boxes.filter(([, box]) => box.checked).map(([scope]) => scope) };
          if (expires.value) body.expiresAt = new Date(expires.value).toISOString();
          if (rate.value) body.rateLimitPerSecond = Number(rate.value);
          return api(projectPath(ctx, "/api-keys"), { method: "POST", tenant, body });
        },
      },
    );
    if (created) {
      show();
      await showSecret("API key created", "API key", created.apiKey);
    }
  }
  async function rotate(key) {
    if (!(await confirmAction(`Rotate “${key.name}”? A new key is made; the old one keeps working for 24 hours.`, "Rotate key"))) return;
    try {
      const created = await api(projectPath(ctx, `/api-keys/${enc(key.id)}/rotate`), { method: "POST", tenant });
      show();
      await showSecret("API key rotated", "API key", created.apiKey);
    } catch (error) {
      showError(messages, error);
    }
  }
  async function revoke(key) {
    if (!(await confirmAction(`Revoke “${key.name}”? Every call with it fails from now on.`, "Revoke key"))) return;
    try {
      await api(projectPath(ctx, `/api-keys/${enc(key.id)}/revoke`), { method: "POST", tenant });
      notice(messages, `Key ${key.name} revoked.`);
      show();
    } catch (error) {
      showError(messages, error);
    }
  }
  put(main, toolbar(h("p", { class: "hint" }, `Keys of project ${project}. The secret is shown once, when created.`), h("span", { class: "grow" }), writable ? button("New API key", create, { class: "primary" }) : null), messages, card(null, holder));
  show();
}

function deliveryStatus(status) {
  return badge(status, { delivered: "good", dead: "bad", failed: "warn" }[status] || "neutral");
}

async function webhooks(ctx) {
  if (needProject(ctx)) return;
  const { main, tenant, project, can } = ctx;
  const writable = can("webhooks:write", tenant, project);
  const messages = h("div");
  const detail = h("div");
  const list = paginated(
    (cursor) => api(projectPath(ctx, "/webhooks"), { tenant, params: { cursor, limit: 20 } }),
    (items) =>
      table(
        [
          ["URL", (w) => h("span", { class: "mono break" }, w.url)],
          ["Events", (w) => h("div", { class: "badges" }, w.eventTypes.map((t) => badge(t)))],
          ["State", (w) => (w.active ? badge("active", "good") : badge(w.disabledReason ? `disabled (${w.disabledReason})` : "paused", "warn"))],
          [
            "",
            (w) =>
              h(
                "div",
                { class: "row-actions" },
                button("Deliveries", () => deliveries(w), { "aria-label": `Deliveries of ${w.url}` }),
                writable ? button("Edit", () => edit(w), { "aria-label": `Edit ${w.url}` }) : null,
                writable ? button("Delete", () => remove(w), { class: "danger ghost", "aria-label": `Delete ${w.url}` }) : null,
              ),
          ],
        ],
        items,
      ),
    empty("No webhooks yet.", writable ? "Add one with “New webhook” to receive signed event deliveries." : "Ask a developer to add one."),
  );
  function formBody(hook) {
    const url = input({ type: "url", required: true, value: hook ? hook.url : "" });
    const types = input({ value: hook ? hook.eventTypes.join(", ") : "*" });
    const active = h("input", { type: "checkbox", checked: hook ? hook.active : true, id: "webhook-active" });
    const body = h("div", {}, field("URL", url, { path: "url" }), field("Event types", types, { path: "eventTypes", hint: "Comma-separated: * for all, or prefixes such as wallet.*" }), h("label", { class: "check" }, active, "Active"));
    const read = () => ({ url: url.value.trim(), eventTypes: types.value.split(",").map((t) => t.trim()).filter(Boolean), active: active.checked });
    return { body, read };
  }
  async function create() {
    const { body, read } = formBody(null);
    const created = await dialog("New webhook", body, { submitLabel: "Create webhook", onSubmit: () => api(projectPath(ctx, "/webhooks"), { method: "POST", tenant, body: read() }) });
    if (created) {
      list.reload();
      await dialog("Webhook created", secretOnce("Signing secret", created.secret), { submitLabel: "Done" });
    }
  }
  async function edit(hook) {
    const { body, read } = formBody(hook);
    const saved = await dialog("Edit webhook", body, { submitLabel: "Save webhook", onSubmit: () => api(projectPath(ctx, `/webhooks/${enc(hook.id)}`), { method: "PATCH", tenant, body: read() }) });
    if (saved) {
      notice(messages, "Webhook saved.");
      list.reload();
    }
  }
  async function remove(hook) {
    if (!(await confirmAction(`Delete the webhook to ${hook.url}? Pending deliveries are dropped.`, "Delete webhook"))) return;
    try {
      await api(projectPath(ctx, `/webhooks/${enc(hook.id)}`), { method: "DELETE", tenant });
      clear(detail);
      list.reload();
    } catch (error) {
      showError(messages, error);
    }
  }
  function deliveries(hook) {
    const status = select([["", "any status"], ["pending", "pending"], ["delivered", "delivered"], ["failed", "failed"], ["dead", "dead"]], {});
    const log = paginated(
      (cursor) => api(projectPath(ctx, `/webhooks/${enc(hook.id)}/deliveries`), { tenant, params: { status: status.value, cursor, limit: 20 } }),
      (items) =>
        table(
          [
            ["Event", (d) => h("div", {}, h("strong", {}, d.eventType), h("div", { class: "hint mono" }, d.eventId))],
            ["Status", (d) => deliveryStatus(d.status)],
            ["Attempts", (d) => String(d.attempts.length)],
            ["Last answer", (d) => lastAnswer(d)],
            ["Created", (d) => when(d.createdAt)],
            ["", (d) => (writable && d.status === "dead" ? button("Redrive", () => redriveOne(d), { "aria-label": `Redrive ${d.eventId}` }) : null)],
          ],
          items,
        ),
      empty("No deliveries yet.", "They appear when the project's players cause matching events."),
    );
    const out = h("div");
    async function redriveOne(d) {
      try {
        await api(projectPath(ctx, `/webhooks/${enc(hook.id)}/deliveries/${enc(d.id)}/redrive`), { method: "POST", tenant });
        notice(out, `Delivery of ${d.eventId} sent again.`);
        log.reload();
      } catch (error) {
        showError(out, error);
      }
    }
    async function redriveAll() {
      if (!(await confirmAction("Send every dead delivery of this webhook again?", "Redrive all"))) return;
      try {
        const result = await api(projectPath(ctx, `/webhooks/${enc(hook.id)}/redrive`), { method: "POST", tenant });
        notice(out, `${result.redriven} dead deliveries sent again.`);
        log.reload();
      } catch (error) {
        showError(out, error);
      }
    }
    status.addEventListener("change", () => log.reload());
    put(clear(detail), 
      card(
        `Deliveries to ${hook.url}`,
        toolbar(field("Status", status), button("Refresh", () => log.reload()), h("span", { class: "grow" }), writable ? button("Redrive all dead", redriveAll, { class: "primary" }) : null),
        out,
        log.element,
      ),
    );
    log.reload();
  }
  put(main, toolbar(h("p", { class: "hint" }, "Signed Standard Webhooks deliveries with retries and redrive."), h("span", { class: "grow" }), writable ? button("New webhook", create, { class: "primary" }) : null), messages, card(null, list.element), detail);
  list.reload();
}

function lastAnswer(delivery) {
  const last = delivery.attempts[delivery.attempts.length - 1];
  if (!last) return "—";
  return last.statusCode ? `HTTP ${last.statusCode}` : last.error || "no answer";
}

// --- A project key for the pages that use the game API (live feed, player lookup) -------------

const CONSOLE_KEYS = "ludex.consoleKeys";

function storedKey(tenant, project) {
  return JSON.parse(sessionStorage.getItem(CONSOLE_KEYS) || "{}")[`${tenant}/${project}`] || null;
}

function storeKey(tenant, project, key) {
  const keys = JSON.parse(sessionStorage.getItem(CONSOLE_KEYS) || "{}");
  if (key) keys[`${tenant}/${project}`] = key;
  else delete keys[`${tenant}/${project}`];
  sessionStorage.setItem(CONSOLE_KEYS, JSON.stringify(keys));
}

/**
 * The live feed and the player lookup speak the game API, which takes project API keys: the
 * console makes one for this browser session (read scopes only, 8 hours) through the documented
 * key endpoint, or takes one pasted by a user whose role cannot create keys.
 */
function consoleKey(ctx, purpose, onReady) {
  const { tenant, project, can, me } = ctx;
  const existing = storedKey(tenant, project);
  if (existing) {
    onReady(existing);
    return h("p", { class: "hint" }, "Reading through this session's console key. ", button("Forget key", () => {
      storeKey(tenant, project, null);
      ctx.go(location.pathname + location.search, { replace: true });
    }, { class: "link" }));
  }
  const messages = h("div");
  const pasted = input({ class: "mono", placeholder: "ldx_…" });
  const create = async () => {
    try {
      const expiresAt = new Date(Date.now() + 8 * 3600 * 1000).toISOString();
      const created = await api(projectPath(ctx, "/api-keys"), {
        method: "POST",
        tenant,
        body: { name: `console ${me.email}`, scopes: ["players:read", "events:read", "realtime"], expiresAt },
      });
      storeKey(tenant, project, created.apiKey);
      ctx.go(location.pathname + location.search, { replace: true });
    } catch (error) {
      showError(messages, error);
    }
  };
  const use = () => {
    if (!pasted.value.trim()) return;
    storeKey(tenant, project, pasted.value.trim());
    ctx.go(location.pathname + location.search, { replace: true });
  };
  return card(
    "A project key is needed",
    h("p", {}, `${purpose} uses the game API, which takes a project API key. The console keeps it in this browser tab only.`),
    messages,
    can("api-keys:write", tenant, project)
      ? h("div", { class: "row" }, button("Create a console key", create, { class: "primary" }), h("span", { class: "hint" }, "Scopes players:read, events:read, realtime; expires in 8 hours."))
      : null,
    toolbar(field("Paste an API key", pasted), button("Use this key", use)),
  );
}

// --- Events: history (dashboard token) and the live feed (realtime WebSocket) ----------------

// docs/EVENTS.md: the stored-events query takes exact types, so a prefix such as `wallet.*`
// is expanded here (the live feed takes prefixes itself).
const EVENT_TYPES = [
  "player.created", "player.updated", "player.deleted", "player.xp.added", "player.level.updated", "player.levelup",
  "wallet.credited", "wallet.debited", "item.granted", "item.consumed", "counter.incremented", "counter.reset",
  "quest.progressed", "quest.completed", "achievement.unlocked", "store.purchase.succeeded",
];

function exactTypes(wanted) {
  if (wanted.includes("*")) return [];
  return [...new Set(wanted.flatMap((t) => (t.endsWith(".*") ? EVENT_TYPES.filter((known) => known.startsWith(t.slice(0, -1))) : [t])))];
}

async function events(ctx) {
  if (needProject(ctx)) return;
  const { main, tenant, project } = ctx;
  const type = input({ placeholder: "all types, or e.g. player.levelup, wallet.*", list: "event-types" });
  const suggestions = h("datalist", { id: "event-types" }, EVENT_TYPES.map((t) => h("option", { value: t })));
  const player = input({ placeholder: "any player" });
  const state = h("span", { class: "badge neutral", role: "status" }, "not connected");
  const feed = h("ol", { class: "feed", "aria-label": "Live events" });
  const feedEmpty = empty("Waiting for events…", "Events appear here as players play.");
  let socket = null;
  let lastId = null;
  let stopped = false;
  let generation = 0; // a filter change starts a new connection; the old one must not reconnect
  let currentKey = null;
  const types = () => type.value.split(",").map((t) => t.trim()).filter(Boolean);
  const matches = (event) => {
    const wanted = types();
    const typeOk = !wanted.length || wanted.some((t) => t === "*" || t === event.type || (t.endsWith(".*") && event.type.startsWith(t.slice(0, -1))));
    return typeOk && (!player.value.trim() || event.playerId === player.value.trim());
  };
  function line(event) {
    return h(
      "li",
      { class: "feed-item" },
      h("time", { datetime: event.occurredAt }, new Date(event.occurredAt).toLocaleTimeString()),
      badge(event.type, event.type.startsWith("wallet") ? "good" : "neutral"),
      h("span", { class: "mono" }, event.playerId || "—"),
      h("code", { class: "data" }, JSON.stringify(event.data)),
    );
  }
  function connect(key) {
    if (stopped) return;
    currentKey = key;
    generation += 1;
    const mine = generation;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const params = new URLSearchParams({ "x-api-key": key, "x-tenant-id": tenant, "x-project-id": project });
    socket = new WebSocket(`${scheme}://${location.host}/v1/realtime?${params}`);
    state.textContent = "connecting";
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "hello") {
        const subscribe = { action: "subscribe", eventTypes: types().length ? types() : ["*"] };
        if (lastId) subscribe.since = lastId;
        socket.send(JSON.stringify(subscribe));
      } else if (data.type === "subscribed") {
        state.textContent = "live";
        state.className = "badge good";
      } else if (data.type === "event") {
        lastId = data.event.id;
        if (!matches(data.event)) return;
        feedEmpty.remove();
        feed.prepend(line(data.event));
        while (feed.children.length > 200) feed.lastChild.remove();
      } else if (data.type === "error") {
        state.textContent = `error: ${data.error}`;
        state.className = "badge bad";
        if (data.error === "invalid_credentials") {
          stopped = true;
          storeKey(tenant, project, null);
        }
      }
    });
    socket.addEventListener("close", () => {
      if (!main.isConnected || mine !== generation) return;
      if (!stopped) {
        state.textContent = "reconnecting";
        state.className = "badge warn";
        setTimeout(() => connect(key), 2000);
      }
    });
  }
  const keyPanel = consoleKey(ctx, "The live feed", (key) => setTimeout(() => connect(key)));
  const restart = () => {
    const old = socket;
    socket = null;
    clear(feed);
    feed.before(feedEmpty);
    if (currentKey) {
      state.textContent = "connecting";
      state.className = "badge neutral";
      connect(currentKey);
    }
    if (old) old.close();
  };
  const apply = button("Apply filters", () => {
    restart();
    history.reload();
  }, { class: "primary" });
  const history = paginated(
    (cursor) => api(`/v1/projects/${enc(project)}/events`, { tenant, params: { type: exactTypes(types()).join(","), playerId: player.value.trim(), cursor, limit: 25 } }),
    (items) =>
      table(
        [
          ["When", (e) => when(e.occurredAt)],
          ["Type", (e) => badge(e.type)],
          ["Player", (e) => h("span", { class: "mono" }, e.playerId || "—")],
          ["Data", (e) => h("code", { class: "data" }, JSON.stringify(e.data))],
        ],
        items,
      ),
    empty("No stored events match.", "Try other filters."),
  );
  put(main, 
    toolbar(field("Event type", type), suggestions, field("Player", player), apply),
    card("Live feed", h("div", { class: "row" }, state), keyPanel, feedEmpty, feed),
    card("Stored events", toolbar(h("p", { class: "hint" }, "Events kept in the event store, oldest first, with the same filters."), h("span", { class: "grow" }), button("Refresh", () => history.reload())), history.element),
  );
  history.reload();
  const observer = new MutationObserver(() => {
    if (!main.isConnected) {
      stopped = true;
      if (socket) socket.close();
      observer.disconnect();
    }
  });
  observer.observe(document.getElementById("app"), { childList: true, subtree: true });
}

// --- Reports -------------------------------------------------------------------------------

const REPORTS = [
  ["events-per-day", "Events per day"],
  ["active-players", "Active players"],
  ["purchases", "Purchases"],
  ["currency-flow", "Currency flow"],
];

function days(from, to) {
  const out = [];
  for (let day = new Date(`${from}T00:00:00Z`); day < new Date(`${to}T00:00:00Z`); day.setUTCDate(day.getUTCDate() + 1)) out.push(day.toISOString().slice(0, 10));
  return out;
}

function pivot(rows, labels, key, value) {
  const names = [...new Set(rows.map((r) => r[key]))].sort();
  return names.map((name) => ({ name, values: labels.map((day) => rows.filter((r) => r.day === day && r[key] === name).reduce((sum, r) => sum + value(r), 0)) }));
}

function reportChart(result) {
  const dates = days(result.from, result.to);
  const sameYear = dates.length && dates[0].slice(0, 4) === dates[dates.length - 1].slice(0, 4);
  const labels = sameYear ? dates.map((d) => d.slice(5)) : dates;
  result = { ...result, rows: result.rows.map((r) => ({ ...r, day: sameYear ? r.day.slice(5) : r.day })) };
  const title = REPORTS.find(([id]) => id === result.report)[1];
  if (result.report === "events-per-day") return barChart(`${title} chart`, labels, pivot(result.rows, labels, "type", (r) => r.count));
  if (result.report === "active-players") return lineChart(`${title} chart`, labels, [{ name: "Active players", values: labels.map((d) => (result.rows.find((r) => r.day === d) || { players: 0 }).players) }]);
  if (result.report === "purchases") return barChart(`${title} chart`, labels, pivot(result.rows, labels, "sku", (r) => r.count));
  const currencies = [...new Set(result.rows.map((r) => r.currency))].sort();
  const series = currencies.flatMap((currency) => [
    { name: `${currency} earned`, values: labels.map((d) => result.rows.filter((r) => r.day === d && r.currency === currency).reduce((s, r) => s + r.earned, 0)) },
    { name: `${currency} spent`, values: labels.map((d) => result.rows.filter((r) => r.day === d && r.currency === currency).reduce((s, r) => s + r.spent, 0)) },
  ]);
  return lineChart(`${title} chart`, labels, series);
}

function reportTable(result) {
  const columns = {
    "events-per-day": [["Day", (r) => r.day], ["Type", (r) => r.type], ["Count", (r) => number(r.count)]],
    "active-players": [["Day", (r) => r.day], ["Players", (r) => number(r.players)]],
    purchases: [["Day", (r) => r.day], ["SKU", (r) => r.sku], ["Purchases", (r) => number(r.count)], ["Quantity", (r) => number(r.quantity)], ["Revenue", (r) => Object.entries(r.revenue).map(([c, v]) => `${number(v)} ${c}`).join(", ")]],
    "currency-flow": [["Day", (r) => r.day], ["Currency", (r) => r.currency], ["Earned", (r) => number(r.earned)], ["Spent", (r) => number(r.spent)], ["Net", (r) => number(r.net)]],
  }[result.report];
  const rows = [...result.rows].reverse();
  return h("div", {}, table(columns, rows.slice(0, 100)), rows.length > 100 ? h("p", { class: "hint" }, `Showing the latest 100 of ${rows.length} rows; download the CSV for all.`) : null);
}

function totals(result) {
  const t = result.totals;
  const parts = Object.entries(t).map(([key, value]) => `${key}: ${typeof value === "object" ? Object.entries(value).map(([c, v]) => `${number(v)} ${c}`).join(", ") || "—" : number(value)}`);
  return h("p", { class: "totals" }, parts.join(" · "));
}

async function reports(ctx) {
  if (needProject(ctx)) return;
  const { main, tenant } = ctx;
  const which = select(REPORTS, { value: "events-per-day" });
  const from = input({ type: "date" });
  const to = input({ type: "date" });
  const out = h("div");
  const messages = h("div");
  const params = () => ({ from: from.value, to: to.value });
  async function show() {
    clear(messages);
    put(clear(out), h("p", { class: "hint" }, "Loading…"));
    try {
      const result = await api(projectPath(ctx, `/reports/${which.value}`), { tenant, params: params() });
      from.value = result.from;
      to.value = result.to;
      put(clear(out), 
        result.rows.length
          ? h("div", {}, totals(result), reportChart(result), reportTable(result))
          : empty("No data in this window.", "Pick a wider window, or wait for players to play."),
      );
    } catch (error) {
      clear(out);
      showError(messages, error);
    }
  }
  const csv = button("Download CSV", async () => {
    try {
      await download(projectPath(ctx, `/reports/${which.value}`), { tenant, params: { ...params(), format: "csv" } }, `${ctx.project}-${which.value}.csv`);
    } catch (error) {
      showError(messages, error);
    }
  });
  which.addEventListener("change", show);
  put(main, toolbar(field("Report", which), field("From", from), field("To (exclusive)", to), button("Show report", show, { class: "primary" }), h("span", { class: "grow" }), csv), messages, card(null, out));
  show();
}

// --- Player lookup ---------------------------------------------------------------------------

async function players(ctx) {
  if (needProject(ctx)) return;
  const { main, tenant, project } = ctx;
  const id = input({ placeholder: "player id" });
  const out = h("div");
  let key = null;
  const keyPanel = consoleKey(ctx, "Player lookup", (found) => {
    key = found;
  });
  const game = (path, params) => api(`/v1/projects/${enc(project)}${path}`, { tenant, apiKey: key, params });
  async function lookUp(playerId) {
    if (!key || !playerId) return;
    id.value = playerId;
    put(clear(out), h("p", { class: "hint" }, "Loading…"));
    try {
      const profile = await game(`/players/${enc(playerId)}`);
      const ledger = paginated(
        (cursor) => game(`/players/${enc(playerId)}/wallet/history`, { cursor, limit: 20 }),
        (items) => table([["When", (e) => when(e.occurredAt)], ["Currency", (e) => e.currency], ["Change", (e) => (e.delta > 0 ? `+${number(e.delta)}` : number(e.delta))], ["Balance", (e) => number(e.balanceAfter)], ["Reason", (e) => e.reason]], items),
        empty("No ledger entries."),
      );
      const quests = Object.entries(profile.quests || {}).flatMap(([group, value]) => (Array.isArray(value) ? value.map((q) => ({ group, ...q })) : []));
      put(clear(out), 
        h(
          "div",
          { class: "stats" },
          h("div", { class: "stat" }, h("p", { class: "stat-label" }, "Player"), h("p", { class: "stat-value small" }, profile.username || profile.playerId)),
          h("div", { class: "stat" }, h("p", { class: "stat-label" }, "Level"), h("p", { class: "stat-value" }, String(profile.level))),
          h("div", { class: "stat" }, h("p", { class: "stat-label" }, "XP"), h("p", { class: "stat-value" }, number(profile.xp))),
          h("div", { class: "stat" }, h("p", { class: "stat-label" }, "Since"), h("p", { class: "stat-value small" }, when(profile.createdAt))),
        ),
        h(
          "div",
          { class: "grid-2" },
          card("Wallet", Object.keys(profile.wallet).length ? table([["Currency", ([c]) => c], ["Balance", ([, v]) => number(v)]], Object.entries(profile.wallet)) : empty("Empty wallet.")),
          card("Inventory", profile.inventory.length ? table([["Item", (i) => i.itemId], ["Quantity", (i) => number(i.quantity)]], profile.inventory) : empty("No items.")),
          card("Quests", quests.length ? table([["Quest", (q) => q.title || q.questId], ["State", (q) => (q.completed ? badge("completed", "good") : badge("active"))], ["Progress", (q) => q.objectives.map((o) => `${o.objectiveId} ${o.progress ?? ""}/${o.target ?? ""}`).join(", ")]], quests) : empty("No quests.")),
          card("Achievements", profile.achievements.length ? table([["Achievement", (a) => a.achievementId], ["Unlocked", (a) => when(a.unlockedAt)]], profile.achievements) : empty("None unlocked yet.")),
          card("Counters", Object.keys(profile.counters).length ? table([["Counter", ([c]) => c], ["Value", ([, v]) => number(v)]], Object.entries(profile.counters)) : empty("No counters yet.")),
        ),
        card("Wallet ledger", ledger.element),
      );
      ledger.reload();
    } catch (error) {
      clear(out);
      showError(out, error);
    }
  }
  const list = paginated(
    (cursor) => (key ? game("/players", { cursor, limit: 20 }) : Promise.resolve({ items: [], nextCursor: null })),
    (items) => table([["Player", (p) => button(p.username || p.playerId, () => lookUp(p.playerId), { class: "link" })], ["ID", (p) => h("span", { class: "mono" }, p.playerId)], ["Created", (p) => when(p.createdAt)]], items),
    empty("No players yet.", "Players appear once your game creates them."),
  );
  const form = h("form", { class: "toolbar" }, field("Player ID", id), h("button", { type: "submit", class: "primary" }, "Look up"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    lookUp(id.value.trim());
  });
  put(main, keyPanel, key ? form : null, out, key ? card("Players", list.element) : null);
  if (key) list.reload();
}

export const CLIENT_PAGES = [
  { slug: "projects", title: "Projects", action: "projects:read", render: projects },
  { slug: "keys", title: "API keys", action: "api-keys:read", render: apiKeys },
  { slug: "webhooks", title: "Webhooks", action: "webhooks:read", render: webhooks },
  { slug: "events", title: "Events", action: "reports:read", render: events },
  { slug: "economy", title: "Economy", action: "economy:read", render: economy },
  { slug: "reports", title: "Reports", action: "reports:read", render: reports },
  { slug: "players", title: "Players", action: "projects:read", render: players },
];

export { ApiError };
