// Sentry logs and metrics, shared by the Logs page, the Metrics page and the trace waterfall.

import { api, h, idEl, levelBadge, route, serviceChip, timeEl } from "./lib.js";

/** Every log and metric of one trace (newest first as the API pages them; the caller sorts). */
export async function traceTelemetry(traceId, signal) {
  const query = `trace_id=${encodeURIComponent(traceId)}&limit=1000`;
  const [logs, metrics] = await Promise.all([
    api(`/inspect/logs?${query}`, { signal }),
    api(`/inspect/metrics?${query}&series=false`, { signal }),
  ]);
  const records = [...logs.logs, ...metrics.points];
  records.sort((a, b) => a.timestamp - b.timestamp);
  return records;
}

/** The records grouped by the span that emitted them. */
export function bySpan(records) {
  const groups = new Map();
  for (const record of records) {
    const key = record.span_id || "";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(record);
  }
  return groups;
}

/** One log or metric as a compact line: time, level or type, service, text. */
export function recordLine(record, { withTrace = false } = {}) {
  const isLog = record.kind === "log";
  return h(
    "div",
    { class: ["tel-line", isLog ? `log level-${record.level}` : "metric"], dataset: { kind: record.kind, spanId: record.span_id || "" } },
    h("span", { class: "tel-time" }, timeEl(record.timestamp, { withAge: false })),
    isLog ? levelBadge(record.level) : h("span", { class: "badge metric-type" }, record.type),
    serviceChip(record.service),
    isLog
      ? h("span", { class: "tel-text", title: record.template || "" }, record.body)
      : h("span", { class: "tel-text" }, h("strong", {}, record.name), " = ", formatValue(record.value, record.unit)),
    withTrace && record.trace_id ? h("a", { class: "tel-trace", href: route("traces", record.trace_id) }, "trace ", idEl(record.trace_id)) : null,
  );
}

export function formatValue(value, unit) {
  if (value === null || value === undefined) return "—";
  const text = Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) < 10 ? 3 : 1);
  return unit && unit !== "none" ? `${text} ${unit}` : text;
}
