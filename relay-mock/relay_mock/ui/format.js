// @ts-check
// Formatters: times (local, with a live relative age), sizes, durations, counts, ids, a service's
// colour and chip, badges, and JSON shown as coloured text. Each returns text or a node built
// with h(), so values from the network are only ever text.

import { append, clear, h } from "./dom.js";

/** @type {(n: number, width?: number) => string} */
const pad = (n, width = 2) => String(n).padStart(width, "0");

/**
 * A date from epoch seconds or an ISO string; null for nothing or nonsense.
 * @param {string | number | null | undefined} value
 */
export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** @param {Date} date */
export function localTime(date) {
  const now = new Date();
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  if (date.toDateString() === now.toDateString()) return clock;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock}`;
}

/** @param {Date} date */
export function age(date) {
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  if (seconds < 0) return "in the future";
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

/**
 * A local timestamp with its relative age, kept fresh by refreshAges().
 * @param {string | number | null | undefined} value
 * @param {{ withAge?: boolean }} [options]
 */
export function timeEl(value, { withAge = true } = {}) {
  const date = toDate(value);
  if (!date) return h("span", { class: "muted" }, "—");
  const el = h("time", { class: "ts", dateTime: date.toISOString(), title: date.toISOString() });
  el.dataset.epoch = String(date.getTime());
  el.dataset.age = withAge ? "1" : "";
  renderTime(el);
  return el;
}

/** @param {HTMLElement} el */
function renderTime(el) {
  const date = new Date(Number(el.dataset.epoch));
  clear(el);
  append(el, [localTime(date), el.dataset.age ? h("span", { class: "age" }, age(date)) : null]);
}

/** @param {ParentNode} [root] */
export function refreshAges(root = document) {
  for (const el of root.querySelectorAll("time.ts")) if (el instanceof HTMLElement) renderTime(el);
}

/** @param {number | null | undefined} n */
export function bytes(n) {
  if (n === null || n === undefined) return "—";
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** @param {number | null | undefined} ms */
export function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60000)}m ${Math.round((ms % 60000) / 1000)}s`;
}

/** @param {number | string | null | undefined} n */
export function count(n) {
  return n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US");
}

/**
 * @param {string | null | undefined} id
 * @param {number} [n]
 */
export function shortId(id, n = 8) {
  return id ? String(id).slice(0, n) : "—";
}

/**
 * An id shown short, with the full value as tooltip and selectable on double click.
 * @param {string | null | undefined} id
 * @param {number} [n]
 */
export function idEl(id, n = 8) {
  if (!id) return h("span", { class: "muted" }, "—");
  return h("code", { class: "id", title: String(id) }, shortId(id, n));
}

// ---------------------------------------------------------------- colours

const SERVICE_HUES = [212, 28, 150, 280, 350, 95, 185, 45, 250, 320];

/**
 * The same service always gets the same colour, in every trace.
 * @param {string | null | undefined} name
 */
export function serviceColor(name) {
  let hash = 2166136261;
  for (const ch of String(name)) {
    hash ^= ch.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return `hsl(${SERVICE_HUES[hash % SERVICE_HUES.length]} 65% 58%)`;
}

/** @param {string | null | undefined} name */
export function serviceChip(name) {
  return h("span", { class: "chip service", style: { "--svc": serviceColor(name) } }, h("span", { class: "swatch" }), name);
}

/** @param {string | null | undefined} level */
export function levelBadge(level) {
  return level ? h("span", { class: ["badge", `level-${String(level).replace(/[^a-z]/gi, "")}`] }, level) : null;
}

/** @param {string | null | undefined} type */
export function typeBadge(type) {
  return h("span", { class: ["badge", "type", `type-${String(type).replace(/[^a-z_]/gi, "")}`] }, type);
}

// ---------------------------------------------------------------- JSON

/**
 * Pretty-printed JSON as coloured text nodes (no HTML parsing involved).
 * @param {unknown} value
 * @param {{ maxString?: number }} [options]
 */
export function jsonView(value, { maxString = 4000 } = {}) {
  const pre = h("pre", { class: "json" });
  writeJson(pre, value, 0, maxString);
  return pre;
}

/**
 * @param {HTMLElement} out
 * @param {unknown} value
 * @param {number} depth
 * @param {number} maxString
 * @returns {void}
 */
function writeJson(out, value, depth, maxString) {
  const indent = "  ".repeat(depth + 1);
  const closing = "  ".repeat(depth);
  if (value === null) out.append(h("span", { class: "j-null" }, "null"));
  else if (typeof value === "string") {
    const shown = value.length > maxString ? `${value.slice(0, maxString)}… (${value.length} chars)` : value;
    out.append(h("span", { class: "j-str" }, JSON.stringify(shown)));
  } else if (typeof value === "number") out.append(h("span", { class: "j-num" }, String(value)));
  else if (typeof value === "boolean") out.append(h("span", { class: "j-bool" }, String(value)));
  else if (Array.isArray(value)) {
    if (!value.length) return out.append("[]");
    out.append("[\n");
    value.forEach((item, i) => {
      out.append(indent);
      writeJson(out, item, depth + 1, maxString);
      out.append(i < value.length - 1 ? ",\n" : "\n");
    });
    out.append(`${closing}]`);
  } else if (typeof value === "object") {
    const entries = Object.entries(value);
    if (!entries.length) return out.append("{}");
    out.append("{\n");
    entries.forEach(([key, item], i) => {
      out.append(indent, h("span", { class: "j-key" }, JSON.stringify(key)), ": ");
      writeJson(out, item, depth + 1, maxString);
      out.append(i < entries.length - 1 ? ",\n" : "\n");
    });
    out.append(`${closing}}`);
  } else out.append(String(value));
}

/**
 * Whether a value an SDK sent is a JSON object (not null, not an array): its fields may be read,
 * though each may be anything.
 * @param {unknown} value
 * @returns {value is { [key: string]: unknown }}
 */
export function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
