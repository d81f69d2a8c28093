// @ts-check
// What the list views share: a paged table over one /inspect endpoint with its heading and filters
// (logs, errors, traces), the filter form (those and envelopes, metrics), rows that open their item.

import { append, clear, empty, h, link } from "./dom.js";
import { routeWithQuery } from "./router.js";
import { api, errorBox, isAbort } from "./api.js";
import { debounce } from "./live.js";

/**
 * @typedef {import("./dom.js").Child} Child
 * @typedef {import("./dom.js").Props} Props
 * @typedef {import("./router.js").ViewContext} ViewContext
 * @typedef {import("./types").LiveEnvelope} LiveEnvelope
 */

/**
 * @template {{ next_cursor?: string | number | null }} P the endpoint's page (types.d.ts)
 * @template T one row's data
 * @typedef {object} PagedTableOptions
 * @property {string} title the page's heading
 * @property {string} [subtitle]
 * @property {string} route the list's own route, e.g. "#/logs"
 * @property {FilterField[]} [fields] the filters above the table, passed on to the endpoint
 * @property {string} endpoint the path, e.g. "/inspect/logs"
 * @property {number} limit rows per page
 * @property {string} tableClass
 * @property {string[]} columns
 * @property {(page: P) => T[]} rows the page's rows
 * @property {(item: T) => HTMLTableRowElement} row
 * @property {string} empty shown when there is no row at all
 * @property {string} [noMatch] shown instead when filters are set
 * @property {(summary: LiveEnvelope) => boolean} liveWhen whether an arriving envelope may change the first page
 */

/**
 * A list page: its heading, the filters (their values are the route's query), the table, its status
 * line and its "Load more" button, appended to `page`; then it loads the first page. Arrivals the
 * view cares about re-read the first page, at most once a second, and only while the reader has not
 * paged further (rows would jump under them). Resolves once the first page is shown (or its error).
 * @template {{ next_cursor?: string | number | null }} P
 * @template T
 * @param {HTMLElement} page
 * @param {ViewContext} ctx
 * @param {PagedTableOptions<P, T>} options
 */
export async function pagedTable(page, ctx, options) {
  const fields = options.fields || [];
  const filters = readFilters(ctx.params, fields);
  const filtered = Object.values(filters).some(Boolean);
  const tbody = h("tbody", {});
  const status = h("div", { class: "list-status" });
  const moreButton = h("button", { type: "button", class: "btn", hidden: true }, "Load more");
  /** @type {string | null} */
  let cursor = null;
  let pages = 0;

  append(page, [
    h("div", { class: "page-head" }, h("h1", {}, options.title), options.subtitle ? h("span", { class: "muted" }, options.subtitle) : null),
    fields.length ? filterForm(options.route, filters, fields) : null,
    h("table", { class: ["grid", options.tableClass] }, h("thead", {}, h("tr", {}, options.columns.map((c) => h("th", {}, c)))), tbody),
    status,
    h("div", { class: "more" }, moreButton),
  ]);

  /** @param {{ reset: boolean }} how reset: the first page again, replacing every row */
  async function load({ reset }) {
    const query = new URLSearchParams({ limit: String(options.limit) });
    for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
    if (!reset && cursor !== null) query.set("cursor", cursor);
    try {
      const data = /** @type {P} */ (await api(`${options.endpoint}?${query}`, { signal: ctx.signal }));
      if (reset) {
        clear(tbody);
        pages = 0;
      }
      clear(status);
      pages += 1;
      tbody.append(...options.rows(data).map(options.row));
      cursor = data.next_cursor === null || data.next_cursor === undefined ? null : String(data.next_cursor);
      moreButton.hidden = cursor === null;
      if (!tbody.rows.length) status.append(empty(filtered && options.noMatch ? options.noMatch : options.empty));
    } catch (err) {
      if (isAbort(err)) return;
      clear(status).append(errorBox(err));
    }
  }

  moreButton.addEventListener("click", () => load({ reset: false }));
  const refresh = debounce(() => pages <= 1 && load({ reset: true }), 1000);
  ctx.onLive((summary) => {
    if (options.liveWhen(summary)) refresh();
  });
  ctx.onCleanup(refresh.cancel);
  ctx.onReconnect(refresh);
  await load({ reset: true });
}

/**
 * One field of a filter form: a search box, or a drop-down when it has `choices`.
 * @typedef {object} FilterField
 * @property {string} name the query parameter
 * @property {string} label
 * @property {string} [placeholder]
 * @property {boolean} [wide]
 * @property {string[]} [choices] a drop-down's values; "" stands for any
 * @property {string} [any] what the drop-down shows for ""
 * @property {Props} [props] more of the input's properties (spellcheck, type, min...)
 */

/**
 * The filter values in a route's query, by field ("" for those not set).
 * @param {URLSearchParams} params
 * @param {FilterField[]} fields
 * @returns {{ [name: string]: string }}
 */
export function readFilters(params, fields) {
  return Object.fromEntries(fields.map((field) => [field.name, (params.get(field.name) || "").trim()]));
}

/**
 * The filters above a list: applying them navigates to `base` with the values in the hash's query
 * (so a filtered list is a link); a drop-down applies as soon as it changes, and with
 * `applyOnChange` every field does.
 * @param {string} base the list's route, e.g. "#/logs"
 * @param {{ [name: string]: string }} filters the values in effect
 * @param {FilterField[]} fields
 * @param {{ submit?: string, applyOnChange?: boolean }} [options]
 */
export function filterForm(base, filters, fields, { submit = "Search", applyOnChange = false } = {}) {
  /** @type {Array<[string, HTMLInputElement | HTMLSelectElement]>} */
  const inputs = [];
  const form = h("form", { class: "filters", autocomplete: "off" });
  const apply = () => {
    location.hash = routeWithQuery(base, Object.fromEntries(inputs.map(([name, input]) => [name, input.value.trim()])));
  };
  for (const field of fields) {
    const value = filters[field.name] || "";
    const input = field.choices
      ? h(
          "select",
          { name: field.name },
          field.choices.map((choice) => h("option", { value: choice, selected: choice === value }, choice || field.any || "any")),
        )
      : h("input", { type: "search", name: field.name, value, placeholder: field.placeholder, ...field.props });
    if (field.choices && !applyOnChange) input.addEventListener("change", apply);
    inputs.push([field.name, input]);
    form.append(h("label", { class: ["filter", field.wide ? "wide" : "", value ? "set" : ""] }, h("span", {}, field.label), input));
  }
  append(form, [h("button", { type: "submit", class: "btn" }, submit), Object.values(filters).some(Boolean) ? link(base, "reset") : null]);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  if (applyOnChange) form.addEventListener("change", apply);
  return form;
}

/**
 * A table row that opens `href` when clicked anywhere but on a link of its own, or while the
 * reader is selecting text in it.
 * @param {string} href
 * @param {Props} props
 * @param {Child[]} cells
 */
export function clickableRow(href, props, ...cells) {
  const row = h("tr", props, ...cells);
  row.classList.add("clickable");
  row.addEventListener("click", (event) => {
    if (event.target instanceof Element && event.target.closest("a")) return;
    if (window.getSelection()?.toString()) return;
    location.hash = href;
  });
  return row;
}
