// @ts-check
// Sentry trace metrics: one time-series chart per metric (name, type, unit, service), from the
// API's per-bucket aggregates; live, with filters.

import { clear, empty, h } from "./dom.js";
import { api, errorBox, isAbort } from "./api.js";
import { count, serviceChip } from "./format.js";
import { lineChart } from "./chart.js";
import { filterForm, readFilters } from "./lists.js";
import { debounce } from "./live.js";
import { formatValue } from "./telemetry.js";

/**
 * @typedef {import("./types").MetricPage} MetricPage
 * @typedef {import("./types").MetricSeries} MetricSeries
 */

const TYPES = ["", "counter", "gauge", "distribution"];
/** @type {import("./lists.js").FilterField[]} */
const FIELDS = [
  { name: "name", label: "name", placeholder: "metric name", props: { spellcheck: false } },
  { name: "type", label: "type", choices: TYPES, any: "any type" },
  { name: "service", label: "service", placeholder: "service" },
  { name: "trace_id", label: "trace", placeholder: "trace id", props: { spellcheck: false } },
  { name: "bucket", label: "bucket s", placeholder: "10", props: { type: "number", min: "0.001", step: "any" } },
];
// What a bucket's point is, per metric type: counters add up, gauges keep their last value,
// distributions are shown by their mean (min and max are in the tooltip).
/** @type {{ [type: string]: "sum" | "last" | "avg" }} */
const AGGREGATE = { counter: "sum", gauge: "last", distribution: "avg" };

/**
 * @param {HTMLElement} page
 * @param {import("./router.js").ViewContext} ctx
 */
export async function metricsView(page, ctx) {
  const filters = readFilters(ctx.params, FIELDS);
  const charts = h("div", { class: "metric-charts" });
  const status = h("div", { class: "list-status" });
  const form = filterForm("#/metrics", filters, FIELDS, { submit: "Show" });
  page.append(h("div", { class: "page-head" }, h("h1", {}, "Metrics")), form, status, charts);

  async function load() {
    const query = new URLSearchParams({ limit: "1", bucket: filters.bucket || "10" });
    for (const [key, value] of Object.entries(filters)) if (value && key !== "bucket") query.set(key, value);
    try {
      const data = /** @type {MetricPage} */ (await api(`/inspect/metrics?${query}`, { signal: ctx.signal }));
      const series = data.series || [];
      clear(status);
      clear(charts).append(...series.map(metricPanel));
      if (!series.length) status.append(empty(Object.values(filters).some(Boolean) ? "No metric matches." : "No metrics yet."));
    } catch (err) {
      if (isAbort(err)) return;
      clear(status).append(errorBox(err));
    }
  }

  const refresh = debounce(load, 2000);
  ctx.onLive((summary) => {
    if ((summary.item_types || []).includes("trace_metric")) refresh();
  });
  ctx.onCleanup(refresh.cancel);
  ctx.onReconnect(refresh);
  await load();
}

/** @param {MetricSeries} series */
function metricPanel(series) {
  const aggregate = AGGREGATE[series.type ?? ""] || "avg";
  /** @param {number | null | undefined} v */
  const format = (v) => formatValue(v, series.unit);
  const points = series.buckets.map((b) => ({
    t: b.start,
    v: b[aggregate],
    label: `${new Date(b.start * 1000).toLocaleTimeString()}: ${aggregate} ${format(b[aggregate])} (n=${b.count}, min ${format(b.min)}, max ${format(b.max)})`,
  }));
  const last = series.points[series.points.length - 1];
  return h(
    "section",
    { class: ["panel", "metric-panel"], dataset: { metric: series.name ?? "", service: series.service ?? "", type: series.type ?? "" } },
    h(
      "h2",
      {},
      h("code", { class: "metric-name" }, series.name),
      " ",
      h("span", { class: "badge metric-type" }, series.type),
      series.unit && series.unit !== "none" ? h("span", { class: "muted metric-unit" }, series.unit) : null,
      " ",
      serviceChip(series.service),
      h("span", { class: "muted" }, ` ${count(series.count)} points, ${aggregate} per bucket`),
      last ? h("span", { class: "metric-last" }, ` last ${format(last.v)}`) : null,
    ),
    lineChart(points, { format }),
  );
}
