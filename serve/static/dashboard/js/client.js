// @ts-check
// Client area (tenant roles, scoped to the chosen project): projects, API keys and webhooks
// here; player sign-in settings in signin.js; the live feed and player lookup in live.js, reports in reports.js, the economy in economy.js.
import { h, clear, when, put } from "./dom.js";
import { api } from "./api.js";
import { field, input, select, button, showError, notice, dialog, confirmAction, secretOnce, table, empty, paginated, badge, card, toolbar } from "./ui.js";
import { economy } from "./economy.js";
import { events, players } from "./live.js";
import { reports } from "./reports.js";
import { economyHealth } from "./health.js";
import { remediation } from "./remediation.js";
import { leaderboards } from "./boards.js";
import { playerSignIn } from "./signin.js";
import { enc, needProject, projectPath } from "./project.js";

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
    /** @type {{ items: Array<{ id: string, description: string }> }} */
    let scopes;
    try {
      scopes = await api("/v1/client/scopes", { tenant });
    } catch (error) {
      showError(messages, error);
      return;
    }
    const name = input({ required: true });
    /** @type {Array<[string, HTMLInputElement, string]>} the scopes the server offers, with what each allows */
    const boxes = scopes.items.map(({ id, description }) => [id, h("input", { type: "checkbox", value: id, id: `scope-${id}`, checked: id.startsWith("players") }), description]);
    const expires = input({ type: "datetime-local" });
    const rate = input({ type: "number", min: 1, placeholder: "plan default" });
    const created = await dialog(
      "New API key",
      h(
        "div",
        {},
        field("Name", name, { path: "name" }),
        h("fieldset", { class: "scopes", "data-field": "scopes", id: "scopes-set" }, h("legend", {}, "Scopes"), boxes.map(([scope, box, description]) => h("label", { class: "check", title: description }, box, h("span", {}, h("span", { class: "mono" }, scope), h("span", { class: "hint" }, description)))), h("p", { class: "field-error", id: "scopes-set-error", hidden: true })),
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
    clear(messages);
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

export const CLIENT_PAGES = [
  { slug: "projects", title: "Projects", action: "projects:read", render: projects },
  { slug: "keys", title: "API keys", action: "api-keys:read", render: apiKeys },
  { slug: "webhooks", title: "Webhooks", action: "webhooks:read", render: webhooks },
  { slug: "player-sign-in", title: "Player sign-in", action: "projects:read", render: playerSignIn },
  { slug: "events", title: "Events", action: "reports:read", render: events },
  { slug: "economy", title: "Economy", action: "economy:read", render: economy },
  { slug: "reports", title: "Reports", action: "reports:read", render: reports },
  { slug: "economy-health", title: "Economy health", action: "reports:read", render: economyHealth },
  { slug: "remediation", title: "Remediation", action: "economy:remediate", render: remediation },
  { slug: "leaderboards", title: "Leaderboards", action: "players:read", render: leaderboards },
  { slug: "players", title: "Players", action: "players:read", render: players },
];
