// Sentry logs: newest first, live, with filters; each line links to its trace.

import { api, clear, empty, errorBox, h, idEl, levelBadge, link, route, routeWithQuery, serviceChip, timeEl } from "./lib.js";
import { debounce } from "./live.js";

const LEVELS = ["", "fatal", "error", "warn", "info", "debug", "trace"];
const FILTERS = ["q", "service", "level", "trace_id"];

export async function logList(page, ctx) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, ctx.params.get(name) || ""]));
  const tbody = h("tbody", {});
  const status = h("div", { class: "list-status" });
  const moreButton = h("button", { type: "button", class: "btn", hidden: true }, "Load more");
  let cursor = null;
  let pages = 0;

  page.append(
    h("div", { class: "page-head" }, h("h1", {}, "Logs")),
    filterForm(filters),
    h(
      "table",
      { class: "grid logs" },
      h("thead", {}, h("tr", {}, ["time", "level", "service", "message", "trace", "span"].map((c) => h("th", {}, c)))),
      tbody,
    ),
    status,
    h("div", { class: "more" }, moreButton),
  );

  async function load({ reset }) {
    const query = new URLSearchParams({ limit: "100" });
    for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
    if (!reset && cursor !== null) query.set("cursor", cursor);
    try {
      const data = await api(`/inspect/logs?${query}`, { signal: ctx.signal });
      if (reset) {
        clear(tbody);
        pages = 0;
      }
      clear(status);
      pages += 1;
      tbody.append(...data.logs.map(logRow));
      cursor = data.next_cursor ?? null;
      moreButton.hidden = cursor === null;
      if (!tbody.rows.length) status.append(empty(Object.values(filters).some(Boolean) ? "No log matches." : "No logs yet."));
    } catch (err) {
      if (err.name === "AbortError") return;
      clear(status).append(errorBox(err));
    }
  }

  moreButton.addEventListener("click", () => load({ reset: false }));
  // Live: re-read the first page when logs arrive (not while the reader is paging back).
  const refresh = debounce(() => pages <= 1 && load({ reset: true }), 1000);
  ctx.onLive((summary) => {
    if ((summary.item_types || []).includes("log")) refresh();
  });
  ctx.onCleanup(refresh.cancel);
  ctx.onReconnect(refresh);
  await load({ reset: true });
}

function filterForm(filters) {
  const q = h("input", { type: "search", name: "q", value: filters.q, placeholder: "text in the message…", spellcheck: false });
  const service = h("input", { type: "search", name: "service", value: filters.service, placeholder: "service" });
  const traceId = h("input", { type: "search", name: "trace_id", value: filters.trace_id, placeholder: "trace id", spellcheck: false });
  const level = h("select", { name: "level" }, LEVELS.map((l) => h("option", { value: l, selected: l === filters.level }, l || "any level")));
  const form = h(
    "form",
    { class: "filters", autocomplete: "off" },
    h("label", { class: ["filter", "wide", filters.q ? "set" : ""] }, h("span", {}, "search"), q),
    h("label", { class: ["filter", filters.service ? "set" : ""] }, h("span", {}, "service"), service),
    h("label", { class: ["filter", filters.level ? "set" : ""] }, h("span", {}, "level"), level),
    h("label", { class: ["filter", filters.trace_id ? "set" : ""] }, h("span", {}, "trace"), traceId),
    h("button", { type: "submit", class: "btn" }, "Search"),
    Object.values(filters).some(Boolean) ? link("#/logs", "reset") : null,
  );
  const apply = () => {
    location.hash = routeWithQuery("#/logs", {
      q: q.value.trim(),
      service: service.value.trim(),
      level: level.value,
      trace_id: traceId.value.trim(),
    });
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  level.addEventListener("change", apply);
  return form;
}

function logRow(log) {
  return h(
    "tr",
    { class: ["log-row", `level-${log.level}`], dataset: { level: log.level, traceId: log.trace_id || "" } },
    h("td", { class: "nowrap" }, timeEl(log.timestamp)),
    h("td", {}, levelBadge(log.level)),
    h("td", {}, serviceChip(log.service)),
    h("td", { class: "wrap-text log-body", title: log.template || "" }, log.body),
    h("td", { class: "nowrap" }, log.trace_id ? h("a", { href: route("traces", log.trace_id), class: "trace-link" }, idEl(log.trace_id)) : "—"),
    h("td", { class: "nowrap" }, log.span_id ? idEl(log.span_id) : h("span", { class: "muted", title: "emitted outside any span" }, "none")),
  );
}
