// Sentry trace metrics: one time-series chart per metric (name, type, unit, service), from the
// API's per-bucket aggregates; live, with filters.

import { api, clear, count, empty, errorBox, h, link, routeWithQuery, serviceChip } from "./lib.js";
import { lineChart } from "./chart.js";
import { debounce } from "./live.js";
import { formatValue } from "./telemetry.js";

const TYPES = ["", "counter", "gauge", "distribution"];
const FILTERS = ["name", "type", "service", "trace_id", "bucket"];
// What a bucket's point is, per metric type: counters add up, gauges keep their last value,
// distributions are shown by their mean (min and max are in the tooltip).
const AGGREGATE = { counter: "sum", gauge: "last", distribution: "avg" };

export async function metricsView(page, ctx) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, ctx.params.get(name) || ""]));
  const charts = h("div", { class: "metric-charts" });
  const status = h("div", { class: "list-status" });
  page.append(h("div", { class: "page-head" }, h("h1", {}, "Metrics")), filterForm(filters), status, charts);

  async function load() {
    const query = new URLSearchParams({ limit: "1", bucket: filters.bucket || "10" });
    for (const [key, value] of Object.entries(filters)) if (value && key !== "bucket") query.set(key, value);
    try {
      const data = await api(`/inspect/metrics?${query}`, { signal: ctx.signal });
      clear(status);
      clear(charts).append(...data.series.map(metricPanel));
      if (!data.series.length) status.append(empty(Object.values(filters).some(Boolean) ? "No metric matches." : "No metrics yet."));
    } catch (err) {
      if (err.name === "AbortError") return;
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

function metricPanel(series) {
  const aggregate = AGGREGATE[series.type] || "avg";
  const format = (v) => formatValue(v, series.unit);
  const points = series.buckets.map((b) => ({
    t: b.start,
    v: b[aggregate],
    label: `${new Date(b.start * 1000).toLocaleTimeString()}: ${aggregate} ${format(b[aggregate])} (n=${b.count}, min ${format(b.min)}, max ${format(b.max)})`,
  }));
  const last = series.points[series.points.length - 1];
  return h(
    "section",
    { class: ["panel", "metric-panel"], dataset: { metric: series.name, service: series.service, type: series.type } },
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

function filterForm(filters) {
  const name = h("input", { type: "search", name: "name", value: filters.name, placeholder: "metric name", spellcheck: false });
  const service = h("input", { type: "search", name: "service", value: filters.service, placeholder: "service" });
  const traceId = h("input", { type: "search", name: "trace_id", value: filters.trace_id, placeholder: "trace id", spellcheck: false });
  const bucket = h("input", { type: "number", name: "bucket", value: filters.bucket, placeholder: "10", min: "0.001", step: "any" });
  const type = h("select", { name: "type" }, TYPES.map((t) => h("option", { value: t, selected: t === filters.type }, t || "any type")));
  const form = h(
    "form",
    { class: "filters", autocomplete: "off" },
    h("label", { class: ["filter", filters.name ? "set" : ""] }, h("span", {}, "name"), name),
    h("label", { class: ["filter", filters.type ? "set" : ""] }, h("span", {}, "type"), type),
    h("label", { class: ["filter", filters.service ? "set" : ""] }, h("span", {}, "service"), service),
    h("label", { class: ["filter", filters.trace_id ? "set" : ""] }, h("span", {}, "trace"), traceId),
    h("label", { class: ["filter", filters.bucket ? "set" : ""] }, h("span", {}, "bucket s"), bucket),
    h("button", { type: "submit", class: "btn" }, "Show"),
    Object.values(filters).some(Boolean) ? link("#/metrics", "reset") : null,
  );
  const apply = () => {
    location.hash = routeWithQuery("#/metrics", {
      name: name.value.trim(),
      type: type.value,
      service: service.value.trim(),
      trace_id: traceId.value.trim(),
      bucket: bucket.value.trim(),
    });
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  type.addEventListener("change", apply);
  return form;
}
