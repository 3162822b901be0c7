// @ts-check
// Reports: events per day, active players, purchases and currency flow as charts, a table and CSV.
import { h, clear, number, put } from "./dom.js";
import { api, download } from "./api.js";
import { field, input, select, button, showError, table, empty, card, toolbar } from "./ui.js";
import { lineChart, barChart } from "./charts.js";
import { needProject, projectPath } from "./project.js";

const REPORTS = [
  ["events-per-day", "Events per day"],
  ["active-players", "Active players"],
  ["purchases", "Purchases"],
  ["currency-flow", "Currency flow"],
];

/** The UTC days in [from, to) as `YYYY-MM-DD`. */
export function days(from, to) {
  const out = [];
  for (let day = new Date(`${from}T00:00:00Z`); day < new Date(`${to}T00:00:00Z`); day.setUTCDate(day.getUTCDate() + 1)) out.push(day.toISOString().slice(0, 10));
  return out;
}

function pivot(rows, labels, key, value) {
  const names = [...new Set(rows.map((r) => r[key]))].sort();
  return names.map((name) => ({ name, values: labels.map((day) => rows.filter((r) => r.day === day && r[key] === name).reduce((sum, r) => sum + value(r), 0)) }));
}

/** Chart labels for the window's days: `MM-DD` when they share a year; `short(day)` maps a row's day the same way. */
export function dayLabels(from, to) {
  const dates = days(from, to);
  const sameYear = dates.length && dates[0].slice(0, 4) === dates[dates.length - 1].slice(0, 4);
  return { labels: sameYear ? dates.map((d) => d.slice(5)) : dates, short: (day) => (sameYear ? day.slice(5) : day), sameYear };
}

function reportChart(result) {
  const { labels, sameYear } = dayLabels(result.from, result.to);
  result = { ...result, rows: result.rows.map((r) => ({ ...r, day: sameYear ? r.day.slice(5) : r.day })) };
  const title = (REPORTS.find(([id]) => id === result.report) || [result.report, result.report])[1];
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

export async function reports(ctx) {
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
