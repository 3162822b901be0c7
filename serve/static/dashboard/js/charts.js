// @ts-check
// Hand-drawn SVG charts (no library to vendor): a line chart of series over labels and a bar
// chart. Each is an <svg role="img"> named by its title, with a legend and <title> tooltips.
import { h, s } from "./dom.js";

const PALETTE = ["#4f46e5", "#0ea5e9", "#f59e0b", "#10b981", "#ef4444", "#a855f7", "#64748b", "#ec4899"];
const WIDE = 720;
const H = 260;
const PAD = { left: 56, right: 16, top: 16, bottom: 36 };

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function short(value) {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${+(value / 1e9).toFixed(1)}B`;
  if (abs >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return String(+value.toFixed(2));
}

function frame(title, min, max, W) {
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title, class: "chart", preserveAspectRatio: "xMidYMid meet" });
  svg.append(s("title", {}, title));
  const plotH = H - PAD.top - PAD.bottom;
  for (let i = 0; i <= 4; i += 1) {
    const value = min + ((max - min) * i) / 4;
    const y = PAD.top + plotH - (plotH * i) / 4;
    svg.append(s("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "grid" }));
    svg.append(s("text", { x: PAD.left - 8, y: y + 4, "text-anchor": "end", class: "axis" }, short(value)));
  }
  return svg;
}

function xLabels(svg, labels, xOf) {
  const every = Math.max(1, Math.ceil(labels.length / 8));
  const last = labels.length - 1;
  labels.forEach((label, i) => {
    // Every n-th label, and the last one unless it would crowd the one before it.
    if (i % every !== 0 && (i !== last || last % every < every / 2)) return;
    svg.append(s("text", { x: xOf(i), y: H - PAD.bottom + 18, "text-anchor": "middle", class: "axis" }, label));
  });
}

function legend(series) {
  return h(
    "ul",
    { class: "legend" },
    series.map((one, i) => h("li", {}, h("span", { class: "swatch", style: `background:${PALETTE[i % PALETTE.length]}` }), one.name)),
  );
}

/** series: [{name, values}] aligned with labels; `width` is the drawing's own width (text scales with it). */
export function lineChart(title, labels, series, { width: W = WIDE } = {}) {
  const all = series.flatMap((one) => one.values);
  const min = Math.min(0, ...all);
  const max = niceMax(Math.max(0, ...all));
  const svg = frame(title, min, max, W);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const xOf = (i) => PAD.left + (labels.length <= 1 ? plotW / 2 : (plotW * i) / (labels.length - 1));
  const yOf = (v) => PAD.top + plotH - (plotH * (v - min)) / (max - min || 1);
  xLabels(svg, labels, xOf);
  series.forEach((one, n) => {
    const color = PALETTE[n % PALETTE.length];
    const points = one.values.map((v, i) => `${xOf(i)},${yOf(v)}`).join(" ");
    svg.append(s("polyline", { points, fill: "none", stroke: color, "stroke-width": 2.5, class: "series" }));
    one.values.forEach((v, i) => {
      svg.append(s("circle", { cx: xOf(i), cy: yOf(v), r: 3.5, fill: color, class: "point" }, s("title", {}, `${one.name} · ${labels[i]}: ${v.toLocaleString("en-US")}`)));
    });
  });
  return h("figure", { class: "chart-box" }, svg, series.length > 1 ? legend(series) : null);
}

/** One bar per label; `stacks` [{name, values}] are stacked. */
export function barChart(title, labels, stacks, { width: W = WIDE } = {}) {
  const totals = labels.map((_, i) => stacks.reduce((sum, one) => sum + Math.max(0, one.values[i] || 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const svg = frame(title, 0, max, W);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, labels.length);
  const width = Math.max(2, Math.min(48, slot * 0.7));
  const xOf = (i) => PAD.left + slot * i + slot / 2;
  xLabels(svg, labels, xOf);
  labels.forEach((label, i) => {
    let base = 0;
    stacks.forEach((one, n) => {
      const value = Math.max(0, one.values[i] || 0);
      const height = (plotH * value) / max;
      const y = PAD.top + plotH - (plotH * base) / max - height;
      svg.append(
        s(
          "rect",
          { x: xOf(i) - width / 2, y, width, height, rx: 2, fill: PALETTE[n % PALETTE.length], class: "bar" },
          s("title", {}, `${one.name} · ${label}: ${value.toLocaleString("en-US")}`),
        ),
      );
      base += value;
    });
  });
  return h("figure", { class: "chart-box" }, svg, stacks.length > 1 ? legend(stacks) : null);
}
