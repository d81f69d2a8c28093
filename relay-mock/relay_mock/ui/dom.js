// @ts-check
// The DOM builder: elements made with createElement and filled with textContent, never from HTML
// strings. Everything relay-mock stores came from the network and is untrusted; h() refuses
// event-handler attributes and innerHTML-like properties. Also the few building blocks every
// page uses (a panel, a key/value table, an empty or loading note).

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
 * @param {string} href
 * @param {Child[]} children
 */
export function link(href, ...children) {
  return h("a", { href }, ...children);
}

// ---------------------------------------------------------------- building blocks

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
