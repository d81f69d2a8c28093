// @ts-check
// Sentry logs and metrics, shared by the Logs page, the Metrics page and the trace waterfall.

import { h } from "./dom.js";
import { route } from "./router.js";
import { api } from "./api.js";
import { idEl, levelBadge, serviceChip, timeEl } from "./format.js";

/**
 * @typedef {import("./types").TelemetryRecord} TelemetryRecord
 * @typedef {import("./types").LogPage} LogPage
 * @typedef {import("./types").MetricPage} MetricPage
 */

/**
 * Every log and metric of one trace, oldest first.
 * @param {string} traceId
 * @param {AbortSignal} signal
 * @returns {Promise<TelemetryRecord[]>}
 */
export async function traceTelemetry(traceId, signal) {
  const query = `trace_id=${encodeURIComponent(traceId)}&limit=1000`;
  const [logs, metrics] = await Promise.all([
    /** @type {Promise<LogPage>} */ (api(`/inspect/logs?${query}`, { signal })),
    /** @type {Promise<MetricPage>} */ (api(`/inspect/metrics?${query}&series=false`, { signal })),
  ]);
  /** @type {TelemetryRecord[]} */
  const records = [...logs.logs, ...metrics.points];
  records.sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
  return records;
}

/**
 * The records grouped by the span that emitted them ("" for none).
 * @param {TelemetryRecord[]} records
 */
export function bySpan(records) {
  /** @type {Map<string, TelemetryRecord[]>} */
  const groups = new Map();
  for (const record of records) {
    const key = record.span_id || "";
    const group = groups.get(key);
    if (group) group.push(record);
    else groups.set(key, [record]);
  }
  return groups;
}

/**
 * One log or metric as a compact line: time, level or type, service, text.
 * @param {TelemetryRecord} record
 * @param {{ withTrace?: boolean }} [options]
 */
export function recordLine(record, { withTrace = false } = {}) {
  return h(
    "div",
    { class: ["tel-line", record.kind === "log" ? `log level-${record.level}` : "metric"], dataset: { kind: record.kind, spanId: record.span_id || "" } },
    h("span", { class: "tel-time" }, timeEl(record.timestamp, { withAge: false })),
    record.kind === "log" ? levelBadge(record.level) : h("span", { class: "badge metric-type" }, record.type),
    serviceChip(record.service),
    record.kind === "log"
      ? h("span", { class: "tel-text", title: record.template || "" }, record.body)
      : h("span", { class: "tel-text" }, h("strong", {}, record.name), " = ", formatValue(record.value, record.unit)),
    withTrace && record.trace_id ? h("a", { class: "tel-trace", href: route("traces", record.trace_id) }, "trace ", idEl(record.trace_id)) : null,
  );
}

/**
 * @param {number | null | undefined} value
 * @param {string | null | undefined} unit
 */
export function formatValue(value, unit) {
  if (value === null || value === undefined) return "—";
  const text = Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) < 10 ? 3 : 1);
  return unit && unit !== "none" ? `${text} ${unit}` : text;
}
