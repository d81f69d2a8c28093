// @ts-check
// Shared helpers: DOM building (text only, never HTML), the API client, formatting.
// Everything relay-mock stores came from the network and is untrusted, so nodes are
// built with createElement and filled with textContent; no HTML strings anywhere.

/**
 * What h() and append() take as children: nodes, text, and nested lists of them; null, undefined
 * and false are left out, so `cond ? node : null` works inline.
 * @typedef {Node | string | number | boolean | null | undefined | ChildList} Child
 * @typedef {Child[]} ChildList
 */

/**
 * h()'s properties. `class` may be a list (falsy entries dropped); `on` adds event listeners;
 * `style` sets style properties (custom ones too); `attrs` sets attributes; any other key is set
 * as the element's own property (value, href, hidden...). Event handler properties and
 * attributes, and innerHTML-like properties, are refused.
 * @typedef {{
 *   class?: string | Array<string | false | null | undefined>,
 *   on?: { [E in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[E]) => void },
 *   style?: { [property: string]: string },
 *   dataset?: { [key: string]: string },
 *   attrs?: { [name: string]: string | number | boolean },
 *   [property: string]: unknown,
 * }} Props
 */

/**
 * What a view gets from the router (app.js): the hash's query, an AbortSignal that fires when
 * the view is left, and subscriptions that end with the view.
 * @typedef {object} ViewContext
 * @property {URLSearchParams} params
 * @property {AbortSignal} signal
 * @property {(fn: (summary: import("./types").LiveEnvelope) => void) => () => void} onLive
 * @property {(fn: () => void) => void} onReconnect
 * @property {(fn: () => void) => void} onCleanup
 */

const FORBIDDEN_PROPS = new Set(["innerHTML", "outerHTML", "srcdoc"]);

/**
 * h("div", {class: "x", on: {click: fn}}, "text", child, [more, children])
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props | null} [props]
 * @param {Child[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (FORBIDDEN_PROPS.has(key) || key.toLowerCase().startsWith("on") && key !== "on") {
      throw new Error(`refusing to set ${key}`);
    }
    if (key === "class") el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : String(value);
    // Props types each handler by its event's name; here they are all just listeners.
    else if (key === "on") for (const [event, fn] of Object.entries(value)) el.addEventListener(event, /** @type {EventListener} */ (fn));
    else if (key === "style") {
      for (const [prop, v] of Object.entries(value)) {
        // setProperty wants CSS names (padding-left); h()'s callers write the DOM's (paddingLeft).
        el.style.setProperty(prop.startsWith("--") ? prop : prop.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), v);
      }
    }
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "attrs") {
      for (const [name, v] of Object.entries(value)) {
        if (name.toLowerCase().startsWith("on") || name.toLowerCase() === "style") throw new Error(`refusing to set ${name}`);
        el.setAttribute(name, String(v));
      }
    }
    // Any other element property; which keys an element has is the DOM's business, not tsc's.
    else /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (el))[key] = value;
  }
  append(el, children);
  return el;
}

/**
 * @template {Element} E
 * @param {E} el
 * @param {Child[]} children
 * @returns {E}
 */
export function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/**
 * @template {Element} E
 * @param {E} el
 * @returns {E}
 */
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/**
 * The href of one of our own routes; every dynamic segment is encoded.
 * @param {Array<string | number>} segments
 */
export function route(...segments) {
  return "#/" + segments.map((s) => encodeURIComponent(String(s))).join("/");
}

/**
 * @param {string} base
 * @param {{ [key: string]: string | null | undefined }} params empty values are left out
 */
export function routeWithQuery(base, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const text = query.toString();
  return text ? `${base}?${text}` : base;
}

/**
 * @param {string} href
 * @param {Child[]} children
 */
export function link(href, ...children) {
  return h("a", { href }, ...children);
}

// ---------------------------------------------------------------- the API

export class ApiError extends Error {
  /**
   * @param {string} method
   * @param {string} path
   * @param {number} status 0 when no answer came
   * @param {string} detail
   * @param {string[]} [causes]
   */
  constructor(method, path, status, detail, causes) {
    super(detail);
    this.method = method;
    this.path = path;
    this.status = status;
    this.detail = detail;
    this.causes = causes || [];
  }
}

/**
 * One request to relay-mock's API: the parsed JSON answer, or an ApiError with the API's
 * {detail, causes}. The answer is `unknown` here: each caller names the shape it expects
 * (types.d.ts), which is the server's word, not checked at run time.
 * @param {string} path
 * @param {{ method?: string, body?: unknown, signal?: AbortSignal }} [options]
 * @returns {Promise<unknown>}
 */
export async function api(path, { method = "GET", body, signal } = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json" };
  /** @type {RequestInit} */
  const init = { method, signal, headers };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(method, path, 0, "relay-mock is unreachable", [String(err instanceof Error ? err.message || err : err)]);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const detail = data && typeof data.detail === "string" ? data.detail : `${response.status} ${response.statusText}`;
    const causes = data && Array.isArray(data.causes) ? data.causes.map(String) : text && !data ? [text.slice(0, 500)] : [];
    throw new ApiError(method, path, response.status, detail, causes);
  }
  return data;
}

/** Whether a failure is a request the view cancelled (it was left): nothing to report.
 * @param {unknown} err
 */
export function isAbort(err) {
  return err instanceof Error && err.name === "AbortError";
}

/**
 * A visible account of a failed request: what was asked, the status, the detail and causes.
 * @param {unknown} err
 */
export function errorBox(err) {
  if (err instanceof ApiError) {
    return h(
      "div",
      { class: "error-box", attrs: { role: "alert" } },
      h("div", { class: "error-title" }, `${err.method} ${err.path} → ${err.status || "network error"}`),
      h("div", { class: "error-detail" }, err.detail),
      err.causes.length ? h("ul", { class: "error-causes" }, err.causes.map((c) => h("li", {}, c))) : null,
    );
  }
  return h("div", { class: "error-box", attrs: { role: "alert" } }, h("div", { class: "error-title" }, "error"), String(err));
}

// ---------------------------------------------------------------- formatting

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

/**
 * A value for a table cell: strings as text, anything else as compact JSON.
 * @param {unknown} value
 * @returns {string | HTMLElement}
 */
export function plain(value) {
  if (value === null || value === undefined || value === "") return h("span", { class: "muted" }, "—");
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return h("code", { class: "inline-json" }, JSON.stringify(value));
}

/**
 * A two-column key/value table. rows: [[label, value-or-node], ...]; empty values are skipped when skipEmpty.
 * @param {Array<[string, unknown]>} rows
 * @param {{ skipEmpty?: boolean, className?: string }} [options]
 */
export function kvTable(rows, { skipEmpty = false, className = "kv" } = {}) {
  const body = [];
  for (const [key, value] of rows) {
    if (skipEmpty && (value === null || value === undefined || value === "")) continue;
    const cell = value instanceof Node ? value : Array.isArray(value) && value.every((v) => v instanceof Node) ? value : plain(value);
    body.push(h("tr", {}, h("th", {}, key), h("td", {}, cell)));
  }
  return h("table", { class: className }, h("tbody", {}, body));
}

/**
 * @param {Child} title
 * @param {Child[]} children
 */
export function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

/** @param {string} text */
export function empty(text) {
  return h("div", { class: "empty" }, text);
}

export function loading() {
  return h("div", { class: "loading" }, "loading…");
}

/**
 * "loading…" in `parent` until `request` settles; then its answer, or its error thrown on.
 * @template T
 * @param {HTMLElement} parent
 * @param {Promise<T>} request
 * @returns {Promise<T>}
 */
export async function whileLoading(parent, request) {
  const placeholder = loading();
  parent.append(placeholder);
  try {
    return await request;
  } finally {
    placeholder.remove();
  }
}
