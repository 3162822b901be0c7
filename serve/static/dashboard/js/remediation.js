// @ts-check
// Remediation: select journal records (window, op, SKU, reason, key prefix, request id, players),
// preview the compensating entries with totals, confirm, then follow the run's progress
// (POST/GET .../remediations, docs/ECONOMY.md "Remediation").
import { h, clear, number, put, when } from "./dom.js";
import { api } from "./api.js";
import { field, input, select, button, showError, table, empty, card, toolbar, confirmAction, badge, paginated } from "./ui.js";
import { needProject, projectPath } from "./project.js";

const POLL_MS = 1000;

function localInput(hoursAgo) {
  const at = new Date(Date.now() - hoursAgo * 3600 * 1000);
  at.setSeconds(0, 0);
  const local = new Date(at.getTime() - at.getTimezoneOffset() * 60000);
  return input({ type: "datetime-local", value: local.toISOString().slice(0, 16) });
}

function totalsTable(totals) {
  const rows = [];
  for (const [group, label] of [["currencies", "Currency"], ["items", "Item"], ["achievements", "Achievement"]]) {
    for (const [name, row] of Object.entries(totals[group] || {})) rows.push({ kind: label, name, ...row });
  }
  /** @type {import("./ui.js").Column[]} */
  const columns = [
    ["Kind", (r) => r.kind],
    ["Name", (r) => r.name],
    ["Taken back (− returned)", (r) => number(r.amount)],
    ["Left as debt", (r) => number(r.debt)],
    ["Players", (r) => number(r.players)],
  ];
  return table(columns, rows, { caption: "Totals" });
}

function entriesTable(entries) {
  /** @type {import("./ui.js").Column[]} */
  const columns = [
    ["Player", (r) => r.playerId],
    ["What", (r) => r.currency || r.itemId || r.achievementId],
    ["Amount", (r) => number(r.amount)],
    ["Balance after", (r) => (r.balanceAfter === undefined ? "—" : number(r.balanceAfter))],
    ["Debt", (r) => (r.debt === undefined ? "—" : number(r.debt))],
  ];
  return table(columns, entries.slice(0, 200), { caption: entries.length > 200 ? `First 200 of ${entries.length} entries` : "Entries" });
}

function statusBadge(status) {
  return badge(status, status === "succeeded" ? "good" : status === "failed" ? "bad" : "neutral");
}

function progressView(run) {
  const { done, total, failed } = run.progress;
  return h(
    "div",
    { role: "status", "aria-label": "Remediation progress" },
    h("p", {}, statusBadge(run.status), ` ${run.remediationId}: ${number(done)} of ${number(total)} players`, failed ? `, ${number(failed)} failed` : ""),
    h("progress", { max: String(total || 1), value: String(done) }),
  );
}

export async function remediation(ctx) {
  if (needProject(ctx)) return;
  const { main, tenant } = ctx;
  const path = projectPath(ctx, "/remediations");
  const from = localInput(24);
  const to = localInput(-1);
  const op = select([["", "any"], ["purchase", "purchase"], ["credit", "credit"], ["grant", "grant"], ["xp", "xp"], ["increment", "increment"], ["progress", "progress"]]);
  const sku = input({ placeholder: "starter-bundle" });
  const reason = input();
  const keyPrefix = input();
  const requestId = input();
  const playerIds = input({ placeholder: "p-1, p-2" });
  const action = select([["clawback", "Clawback (currencies and items)"], ["revoke", "Revoke achievements"]]);
  const messages = h("div");
  const out = h("div");
  const running = h("div");

  function body(dryRun) {
    const chosen = playerIds.value.split(",").map((id) => id.trim()).filter(Boolean);
    /** @type {Record<string, any>} */
    const selection = { from: new Date(from.value).toISOString(), to: new Date(to.value).toISOString() };
    /** @type {Array<[string, HTMLInputElement | HTMLSelectElement]>} */
    const filters = [["op", op], ["sku", sku], ["reason", reason], ["idempotencyKeyPrefix", keyPrefix], ["requestId", requestId]];
    for (const [key, control] of filters) {
      if (control.value) selection[key] = control.value;
    }
    if (chosen.length) selection.playerIds = chosen;
    return { select: selection, action: action.value, dryRun };
  }

  async function follow(remediationId) {
    for (;;) {
      const run = await api(`${path}/${remediationId}`, { tenant });
      put(clear(running), card("Progress", progressView(run)));
      if (run.status !== "running") {
        history.reload();
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async function apply(preview) {
    const question = `Apply to ${number(preview.players)} players? Compensating entries are journaled; what a balance cannot give becomes debt.`;
    if (!(await confirmAction(question, "Apply remediation"))) return;
    try {
      const started = await api(path, { method: "POST", tenant, body: body(false) });
      clear(out);
      await follow(started.remediationId);
    } catch (error) {
      showError(messages, error);
    }
  }

  async function showPreview() {
    clear(messages);
    put(clear(out), h("p", { class: "hint" }, "Loading…"));
    try {
      const preview = await api(path, { method: "POST", tenant, body: body(true) });
      put(
        clear(out),
        preview.players
          ? card(
              `Preview: ${number(preview.players)} players`,
              totalsTable(preview.totals),
              entriesTable(preview.entries),
              h("div", { class: "actions" }, button("Apply…", () => apply(preview), { class: "danger" })),
            )
          : empty("Nothing to take back in this selection.", "Widen the window or loosen the filters; records already remediated are skipped."),
      );
    } catch (error) {
      clear(out);
      showError(messages, error);
    }
  }

  /** @type {import("./ui.js").Column[]} */
  const columns = [
    ["Id", (r) => r.remediationId],
    ["Action", (r) => r.action],
    ["Status", (r) => statusBadge(r.status)],
    ["Players", (r) => `${number(r.progress.done)} / ${number(r.progress.total)}`],
    ["Created", (r) => when(r.createdAt)],
  ];
  const history = paginated(
    (cursor) => api(path, { tenant, params: cursor ? { cursor } : {} }),
    (items) => table(columns, items),
    empty("No remediations yet.", "Preview one above."),
  );
  put(
    main,
    toolbar(field("From", from), field("To (exclusive)", to), field("Op", op), field("SKU", sku), field("Reason", reason)),
    toolbar(field("Idempotency-key prefix", keyPrefix), field("Request id", requestId), field("Players", playerIds, { hint: "Comma-separated; empty: all." }), field("Action", action), button("Preview", showPreview, { class: "primary" })),
    messages,
    out,
    running,
    card("Remediations", history.element),
  );
  history.reload();
}
