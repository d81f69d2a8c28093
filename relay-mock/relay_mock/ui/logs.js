// @ts-check
// Sentry logs: newest first, live, with filters; each line links to its trace.

import { h } from "./dom.js";
import { route } from "./router.js";
import { idEl, levelBadge, serviceChip, timeEl } from "./format.js";
import { pagedTable } from "./lists.js";

/** @typedef {import("./types").LogPage} LogPage */
/** @typedef {import("./types").LogRecord} LogRecord */

const LEVELS = ["", "fatal", "error", "warn", "info", "debug", "trace"];

/** @type {import("./lists.js").FilterField[]} */
const FIELDS = [
  { name: "q", label: "search", wide: true, placeholder: "text in the message…", props: { spellcheck: false } },
  { name: "service", label: "service", placeholder: "service" },
  { name: "level", label: "level", choices: LEVELS, any: "any level" },
  { name: "trace_id", label: "trace", placeholder: "trace id", props: { spellcheck: false } },
];

/**
 * @param {HTMLElement} page
 * @param {import("./router.js").ViewContext} ctx
 */
export async function logList(page, ctx) {
  await pagedTable(page, ctx, {
    title: "Logs",
    route: "#/logs",
    fields: FIELDS,
    endpoint: "/inspect/logs",
    limit: 100,
    tableClass: "logs",
    columns: ["time", "level", "service", "message", "trace", "span"],
    rows: (/** @type {LogPage} */ data) => data.logs,
    row: logRow,
    empty: "No logs yet.",
    noMatch: "No log matches.",
    liveWhen: (summary) => (summary.item_types || []).includes("log"),
  });
}

/** @param {LogRecord} log */
function logRow(log) {
  return h(
    "tr",
    { class: ["log-row", `level-${log.level}`], dataset: { level: log.level ?? "", traceId: log.trace_id || "" } },
    h("td", { class: "nowrap" }, timeEl(log.timestamp)),
    h("td", {}, levelBadge(log.level)),
    h("td", {}, serviceChip(log.service)),
    h("td", { class: "wrap-text log-body", title: log.template || "" }, log.body),
    h("td", { class: "nowrap" }, log.trace_id ? h("a", { href: route("traces", log.trace_id), class: "trace-link" }, idEl(log.trace_id)) : "—"),
    h("td", { class: "nowrap" }, log.span_id ? idEl(log.span_id) : h("span", { class: "muted", title: "emitted outside any span" }, "none")),
  );
}
