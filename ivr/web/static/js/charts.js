// Our own small SVG charts: horizontal bars for tallies, columns for calls per minute. Every number a
// chart shows is also written as text next to it, so the page reads the same without the picture.

import { h, fill } from "./dom.js";
import { number, t, time, tn } from "./i18n.js";

// What a chart counts: the catalogue's plural entry for "N things" and its sentence for "none in the last hour"
const UNITS = {
  vote: ["unit.vote", "charts.noVotes"],
  answer: ["unit.answer", "charts.noAnswers"],
  call: ["unit.call", "charts.noCalls"],
  message: ["unit.message", "charts.noMessages"],
};

function counted(unit, n) {
  return tn(UNITS[unit][0], n);
}

/** Bars of [label, count], biggest first; `update(entries)` redraws in place (the bars glide). */
export class BarChart {
  constructor(label, unit) {
    this.unit = unit;
    this.rows = new Map();
    this.list = h("ol", { class: "bars", "aria-label": label });
    this.total = h("p", { class: "total" });
    this.element = h("figure", { class: "chart" }, this.list, this.total);
  }

  update(entries) {
    const sorted = [...entries].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
    const max = Math.max(1, ...sorted.map(([, n]) => n));
    const total = sorted.reduce((sum, [, n]) => sum + n, 0);
    const seen = new Set();
    for (const [label, count] of sorted) {
      seen.add(label);
      let row = this.rows.get(label);
      if (!row) {
        row = {
          bar: h("svg:rect", { x: "0", y: "0", height: "100%", width: "0", rx: "3" }),
          count: h("span", { class: "count" }),
        };
        row.element = h("li", { class: "bar" }, h("span", { class: "label" }, label),
          h("svg:svg", { class: "track", "aria-hidden": "true", focusable: "false" }, row.bar), row.count);
        this.rows.set(label, row);
      }
      row.bar.setAttribute("width", `${(count / max) * 100}%`);
      row.count.textContent = number(count);
      row.element.setAttribute("aria-label", `${label}: ${counted(this.unit, count)}`);
      this.list.append(row.element);        // moves existing rows into the new order
    }
    for (const [label, row] of this.rows) {
      if (!seen.has(label)) {
        row.element.remove();
        this.rows.delete(label);
      }
    }
    this.total.textContent = t("charts.total", { count: counted(this.unit, total) });
  }
}

const MINUTES = 60;
const MINUTE = 60000;

/** Calls per minute over the last hour as columns, with a plain sentence summing it up. */
export class MinuteChart {
  constructor(label, unit = "call") {
    this.unit = unit;
    this.svg = h("svg:svg", { class: "columns", viewBox: `0 0 ${MINUTES} 100`, preserveAspectRatio: "none",
      role: "img", "aria-label": label });
    this.top = h("span", { class: "axis-top" });
    this.summary = h("p", { class: "summary" });
    this.element = h("figure", { class: "chart minute-chart" },
      h("div", { class: "plot" }, this.top, this.svg),
      h("div", { class: "axis", "aria-hidden": "true" }, h("span", {}, t("charts.minutesAgo", { n: 60 })),
        h("span", {}, t("charts.minutesAgo", { n: 30 })), h("span", {}, t("charts.now"))),
      this.summary);
  }

  update(perMinute, now = Date.now()) {
    const counts = new Map(perMinute.map(([iso, n]) => [Math.floor(Date.parse(iso) / MINUTE), n]));
    const last = Math.floor(now / MINUTE);
    const minutes = Array.from({ length: MINUTES }, (_, i) => last - MINUTES + 1 + i);
    const values = minutes.map((m) => counts.get(m) || 0);
    const max = Math.max(1, ...values);
    fill(this.svg, h("svg:line", { x1: "0", x2: String(MINUTES), y1: "100", y2: "100", class: "baseline" }),
      values.map((n, i) => {
        const height = (n / max) * 96;
        return h("svg:rect", { x: String(i + 0.1), width: "0.8", y: String(100 - height), height: String(height) },
          h("svg:title", {}, `${time(minutes[i] * MINUTE)}: ${counted(this.unit, n)}`));
      }));
    this.top.textContent = number(max);
    const total = values.reduce((a, b) => a + b, 0);
    const busiest = values.indexOf(Math.max(...values));
    this.summary.textContent = total
      ? t("charts.summary", { total: counted(this.unit, total), at: time(minutes[busiest] * MINUTE),
        busiest: counted(this.unit, values[busiest]) })
      : t(UNITS[this.unit][1]);
  }
}
