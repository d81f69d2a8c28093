// Shared helpers: DOM building (text only, never HTML), the API client, formatting.
// Everything relay-mock stores came from the network and is untrusted, so nodes are
// built with createElement and filled with textContent; no HTML strings anywhere.

const FORBIDDEN_PROPS = new Set(["innerHTML", "outerHTML", "srcdoc"]);

/** h("div", {class: "x", on: {click: fn}}, "text", child, [more, children]) */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (FORBIDDEN_PROPS.has(key) || key.toLowerCase().startsWith("on") && key !== "on") {
      throw new Error(`refusing to set ${key}`);
    }
    if (key === "class") el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    else if (key === "on") for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (key === "style") {
      for (const [prop, v] of Object.entries(value)) {
        if (prop.startsWith("--")) el.style.setProperty(prop, v);
        else el.style[prop] = v;
      }
    }
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "attrs") {
      for (const [name, v] of Object.entries(value)) {
        if (name.toLowerCase().startsWith("on") || name.toLowerCase() === "style") throw new Error(`refusing to set ${name}`);
        el.setAttribute(name, String(v));
      }
    }
    else el[key] = value;
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** The href of one of our own routes; every dynamic segment is encoded. */
export function route(...segments) {
  return "#/" + segments.map((s) => encodeURIComponent(String(s))).join("/");
}

export function routeWithQuery(base, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const text = query.toString();
  return text ? `${base}?${text}` : base;
}

export function link(href, ...children) {
  return h("a", { href }, ...children);
}

// ---------------------------------------------------------------- the API

export class ApiError extends Error {
  constructor(method, path, status, detail, causes) {
    super(detail);
    this.method = method;
    this.path = path;
    this.status = status;
    this.detail = detail;
    this.causes = causes || [];
  }
}

export async function api(path, { method = "GET", body, signal } = {}) {
  const init = { method, signal, headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["content-type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(method, path, 0, "relay-mock is unreachable", [String(err.message || err)]);
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

/** A visible account of a failed request: what was asked, the status, the detail and causes. */
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

const pad = (n, width = 2) => String(n).padStart(width, "0");

export function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function localTime(date) {
  const now = new Date();
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  if (date.toDateString() === now.toDateString()) return clock;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock}`;
}

export function age(date) {
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  if (seconds < 0) return "in the future";
  if (seconds < 5) return "just now";
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

/** A local timestamp with its relative age, kept fresh by refreshAges(). */
export function timeEl(value, { withAge = true } = {}) {
  const date = toDate(value);
  if (!date) return h("span", { class: "muted" }, "—");
  const el = h("time", { class: "ts", dateTime: date.toISOString(), title: date.toISOString() });
  el.dataset.epoch = String(date.getTime());
  el.dataset.age = withAge ? "1" : "";
  renderTime(el);
  return el;
}

function renderTime(el) {
  const date = new Date(Number(el.dataset.epoch));
  clear(el);
  append(el, [localTime(date), el.dataset.age ? h("span", { class: "age" }, age(date)) : null]);
}

export function refreshAges(root = document) {
  for (const el of root.querySelectorAll("time.ts")) renderTime(el);
}

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

export function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60000)}m ${Math.round((ms % 60000) / 1000)}s`;
}

export function count(n) {
  return n === null || n === undefined ? "—" : Number(n).toLocaleString("en-US");
}

export function shortId(id, n = 8) {
  return id ? String(id).slice(0, n) : "—";
}

/** An id shown short, with the full value as tooltip and selectable on double click. */
export function idEl(id, n = 8) {
  if (!id) return h("span", { class: "muted" }, "—");
  return h("code", { class: "id", title: String(id) }, shortId(id, n));
}

// ---------------------------------------------------------------- colours

const SERVICE_HUES = [212, 28, 150, 280, 350, 95, 185, 45, 250, 320];

/** The same service always gets the same colour, in every trace. */
export function serviceColor(name) {
  let hash = 2166136261;
  for (const ch of String(name)) {
    hash ^= ch.codePointAt(0);
    hash = Math.imul(hash, 16777619) >>> 0;
  }
  return `hsl(${SERVICE_HUES[hash % SERVICE_HUES.length]} 65% 58%)`;
}

export function serviceChip(name) {
  return h("span", { class: "chip service", style: { "--svc": serviceColor(name) } }, h("span", { class: "swatch" }), name);
}

export function levelBadge(level) {
  return level ? h("span", { class: ["badge", `level-${String(level).replace(/[^a-z]/gi, "")}`] }, level) : null;
}

export function typeBadge(type) {
  return h("span", { class: ["badge", "type", `type-${String(type).replace(/[^a-z_]/gi, "")}`] }, type);
}

// ---------------------------------------------------------------- JSON

/** Pretty-printed JSON as coloured text nodes (no HTML parsing involved). */
export function jsonView(value, { maxString = 4000 } = {}) {
  const pre = h("pre", { class: "json" });
  writeJson(pre, value, 0, maxString);
  return pre;
}

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

/** A value for a table cell: strings as text, anything else as compact JSON. */
export function plain(value) {
  if (value === null || value === undefined || value === "") return h("span", { class: "muted" }, "—");
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return h("code", { class: "inline-json" }, JSON.stringify(value));
}

/** A two-column key/value table. rows: [[label, value-or-node], ...]; empty values are skipped when skipEmpty. */
export function kvTable(rows, { skipEmpty = false, className = "kv" } = {}) {
  const body = [];
  for (const [key, value] of rows) {
    if (skipEmpty && (value === null || value === undefined || value === "")) continue;
    const cell = value instanceof Node ? value : Array.isArray(value) && value.every((v) => v instanceof Node) ? value : plain(value);
    body.push(h("tr", {}, h("th", {}, key), h("td", {}, cell)));
  }
  return h("table", { class: className }, h("tbody", {}, body));
}

export function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

export function empty(text) {
  return h("div", { class: "empty" }, text);
}

export function loading() {
  return h("div", { class: "loading" }, "loading…");
}
