// @ts-check
// Economy health: per currency and UTC day, sources vs sinks and net flow as a chart, the latest
// supply and top-1% share, a table and CSV (GET .../reports/economy-health).
import { h, clear, number, put } from "./dom.js";
import { api, download } from "./api.js";
import { field, input, select, button, showError, table, empty, card, toolbar } from "./ui.js";
import { lineChart } from "./charts.js";
import { dayLabels } from "./reports.js";
import { needProject, projectPath } from "./project.js";

export function percent(share) {
  return `${(share * 100).toFixed(1)}%`;
}

function stat(label, value) {
  return h("div", { class: "stat" }, h("p", { class: "stat-label" }, label), h("p", { class: "stat-value" }, value));
}

function healthChart(result) {
  const { labels, short } = dayLabels(result.from, result.to);
  const byDay = new Map(result.rows.map((r) => [short(r.day), r]));
  /** @type {Array<[string, (row: any) => number]>} */
  const lines = [
    ["Sources", (r) => r.sources.total],
    ["Sinks", (r) => r.sinks.total],
    ["Net flow", (r) => r.net],
  ];
  const series = lines.map(([name, value]) => ({ name, values: labels.map((d) => (byDay.has(d) ? value(byDay.get(d)) : 0)) }));
  return lineChart(`Sources and sinks of ${result.currency} chart`, labels, series);
}

function healthStats(result) {
  const latest = result.rows[result.rows.length - 1];
  const sources = result.rows.reduce((sum, r) => sum + r.sources.total, 0);
  const sinks = result.rows.reduce((sum, r) => sum + r.sinks.total, 0);
  return h(
    "div",
    { class: "stats", role: "group", "aria-label": "Economy health figures" },
    stat("Supply", number(latest.supply)),
    stat("Top 1% share", percent(latest.top1PercentShare)),
    stat("Holders", number(latest.holders)),
    stat("Sources", number(sources)),
    stat("Sinks", number(sinks)),
    stat("Net flow", number(sources - sinks)),
  );
}

function breakdown(flow) {
  return Object.entries(flow)
    .filter(([kind]) => kind !== "total")
    .flatMap(([kind, keys]) => Object.entries(keys).map(([key, amount]) => `${kind} ${key}: ${number(amount)}`))
    .join(", ");
}

function healthTable(result) {
  /** @type {import("./ui.js").Column[]} */
  const columns = [
    ["Day", (r) => r.day],
    ["Sources", (r) => number(r.sources.total)],
    ["Sinks", (r) => number(r.sinks.total)],
    ["Net", (r) => number(r.net)],
    ["Supply", (r) => number(r.supply)],
    ["Holders", (r) => number(r.holders)],
    ["Top 1% share", (r) => percent(r.top1PercentShare)],
    ["Where from", (r) => breakdown(r.sources) || "—"],
    ["Where to", (r) => breakdown(r.sinks) || "—"],
  ];
  return table(columns, [...result.rows].reverse());
}

async function currencies(ctx) {
  try {
    const economy = await api(projectPath(ctx, "/economy"), { tenant: ctx.tenant });
    return economy.document.currencies.map((c) => c.id);
  } catch {
    return ["coins"];
  }
}

export async function economyHealth(ctx) {
  if (needProject(ctx)) return;
  const { main, tenant } = ctx;
  const ids = await currencies(ctx);
  const currency = select(ids.map((id) => [id, id]), { value: ids.includes("coins") ? "coins" : ids[0] });
  const from = input({ type: "date" });
  const to = input({ type: "date" });
  const out = h("div");
  const messages = h("div");
  const params = () => ({ currency: currency.value, from: from.value, to: to.value });
  async function show() {
    clear(messages);
    put(clear(out), h("p", { class: "hint" }, "Loading…"));
    try {
      const result = await api(projectPath(ctx, "/reports/economy-health"), { tenant, params: params() });
      from.value = result.from;
      to.value = result.to;
      put(
        clear(out),
        result.rows.length
          ? h("div", {}, healthStats(result), healthChart(result), healthTable(result))
          : empty(`No ${result.currency} moved in this window.`, "Pick a wider window or another currency."),
      );
    } catch (error) {
      clear(out);
      showError(messages, error);
    }
  }
  const csv = button("Download CSV", async () => {
    try {
      await download(projectPath(ctx, "/reports/economy-health"), { tenant, params: { ...params(), format: "csv" } }, `${ctx.project}-economy-health-${currency.value}.csv`);
    } catch (error) {
      showError(messages, error);
    }
  });
  currency.addEventListener("change", show);
  put(main, toolbar(field("Currency", currency), field("From", from), field("To (exclusive)", to), button("Show report", show, { class: "primary" }), h("span", { class: "grow" }), csv), messages, card(null, out));
  show();
}
