// @ts-check
// Stats: what is stored, what was refused and why, and what the SDKs report having dropped.

import { clear, empty, h, kvTable, section } from "./dom.js";
import { api, errorBox, isAbort } from "./api.js";
import { bytes, count, serviceChip, timeEl, typeBadge } from "./format.js";
import { debounce } from "./live.js";
import { relayStatsSection } from "./relay.js";

/**
 * @typedef {import("./types").Stats} Stats
 * @typedef {import("./types").Refusal} Refusal
 * @typedef {import("./types").RefusalList} RefusalList
 * @typedef {import("./types").Discarded} Discarded
 * @typedef {import("./dom.js").Child} Child
 */

/**
 * @param {HTMLElement} page
 * @param {import("./router.js").ViewContext} ctx
 */
export async function statsView(page, ctx) {
  const body = h("div", {});
  page.append(h("div", { class: "page-head" }, h("h1", {}, "Stats")), body);

  async function load() {
    const [stats, refusals] = await Promise.allSettled([
      /** @type {Promise<Stats>} */ (api("/inspect/stats", { signal: ctx.signal })),
      /** @type {Promise<RefusalList>} */ (api("/inspect/refusals?limit=50", { signal: ctx.signal })),
    ]);
    if (stats.status === "rejected") throw stats.reason;
    clear(body).append(...renderStats(stats.value), relayStatsSection(stats.value.relay));
    body.append(refusals.status === "fulfilled" ? refusalsSection(refusals.value.refusals || []) : errorBox(refusals.reason));
  }

  await load();
  const refresh = debounce(() => load().catch((err) => isAbort(err) || body.prepend(errorBox(err))), 2000);
  ctx.onLive(refresh);
  ctx.onCleanup(refresh.cancel);
  ctx.onReconnect(refresh);
}

/**
 * @param {string} label
 * @param {Child} value
 * @param {string} [sub]
 */
function card(label, value, sub) {
  return h("div", { class: "card" }, h("div", { class: "card-value" }, value), h("div", { class: "card-label" }, label), sub ? h("div", { class: "card-sub" }, sub) : null);
}

/** @param {Stats} stats */
function renderStats(stats) {
  const env = stats.envelopes || {};
  const retention = env.retention || {};
  const refused = stats.refused || {};
  const reports = stats.client_reports || {};
  const out = [];

  out.push(
    h(
      "div",
      { class: "cards" },
      card("envelopes stored", count(env.stored), `${bytes(env.bytes)} of ${bytes(retention.max_bytes)}`),
      card("received", count(env.received), "since start"),
      card("evicted", count(env.evicted), `${bytes(env.evicted_bytes)} · keeps ${count(retention.max_envelopes)}`),
      card("refused", count(refused.total), refused.injected ? `${count(refused.injected)} injected` : "none injected"),
      card("dropped by SDKs", count(reports.total), "from client reports"),
      card("items with problems", count(stats.items_with_problems), "Relay would reject"),
    ),
  );

  out.push(
    h(
      "div",
      { class: "columns" },
      section("Items by type", barTable(Object.entries(stats.items_by_type || {}), (t) => typeBadge(t))),
      section("Content encodings", barTable(Object.entries(stats.content_encodings || {}), (e) => e)),
    ),
  );

  const projects = Object.entries(stats.by_project || {});
  out.push(
    section(
      "By project",
      projects.length
        ? h(
            "table",
            { class: "grid" },
            h("thead", {}, h("tr", {}, ["project", "id", "envelopes", "raw", "compressed", "ratio"].map((c, i) => h("th", { class: i > 1 ? "num" : "" }, c)))),
            h(
              "tbody",
              {},
              projects.map(([name, p]) =>
                h(
                  "tr",
                  {},
                  h("td", {}, serviceChip(name)),
                  h("td", { class: "muted" }, String(p.project_id)),
                  h("td", { class: "num" }, count(p.envelopes)),
                  h("td", { class: "num" }, bytes(p.raw_bytes)),
                  h("td", { class: "num" }, bytes(p.compressed_bytes)),
                  h("td", { class: "num muted" }, p.raw_bytes && p.compressed_bytes ? `${((p.compressed_bytes / p.raw_bytes) * 100).toFixed(0)}%` : "—"),
                ),
              ),
            ),
          )
        : empty("nothing stored"),
    ),
  );

  const services = Object.entries(stats.by_service || {});
  const serviceTypes = [...new Set(services.flatMap(([, types]) => Object.keys(types)))].sort();
  out.push(
    section(
      "By server name",
      services.length
        ? h(
            "table",
            { class: "grid" },
            h("thead", {}, h("tr", {}, h("th", {}, "server_name"), serviceTypes.map((t) => h("th", { class: "num" }, t)))),
            h("tbody", {}, services.map(([name, types]) => h("tr", {}, h("td", {}, name), serviceTypes.map((t) => h("td", { class: "num" }, count(types[t] ?? 0)))))),
          )
        : empty("no events or transactions"),
    ),
  );

  out.push(
    h(
      "div",
      { class: "columns" },
      section(
        "Refused",
        kvTable([
          ["total", count(refused.total)],
          ["injected", count(refused.injected)],
        ]),
        h("h3", {}, "by reason"),
        barTable(Object.entries(refused.by_reason || {}), (r) => r),
        h("h3", {}, "by status"),
        barTable(Object.entries(refused.by_status || {}), (s) => h("code", {}, s)),
      ),
      section(
        "Client reports (dropped by SDKs)",
        kvTable([["total", count(reports.total)]]),
        h("h3", {}, "by reason"),
        barTable(Object.entries(reports.by_reason || {}), (r) => r),
        h("h3", {}, "by category"),
        barTable(Object.entries(reports.by_category || {}), (c) => c),
        clientReportsByProject(reports.by_project || {}),
      ),
    ),
  );
  return out;
}

/**
 * @param {Array<[string, number]>} entries
 * @param {(key: string) => Child} labelFn
 */
function barTable(entries, labelFn) {
  if (!entries.length) return empty("none");
  const max = Math.max(...entries.map(([, n]) => Number(n) || 0), 1);
  return h(
    "table",
    { class: "bars" },
    h(
      "tbody",
      {},
      entries.map(([key, n]) =>
        h(
          "tr",
          {},
          h("th", {}, labelFn(key)),
          h("td", { class: "bar-cell" }, h("div", { class: "bar", style: { width: `${((Number(n) || 0) / max) * 100}%` } })),
          h("td", { class: "num" }, count(n)),
        ),
      ),
    ),
  );
}

/** @param {{ [project: string]: Discarded[] }} byProject */
function clientReportsByProject(byProject) {
  const entries = Object.entries(byProject);
  if (!entries.length) return null;
  return [
    h("h3", {}, "by project"),
    h(
      "table",
      { class: "grid" },
      h("thead", {}, h("tr", {}, ["project", "reason", "category", "quantity"].map((c) => h("th", {}, c)))),
      h(
        "tbody",
        {},
        entries.flatMap(([name, rows]) =>
          (rows || []).map((r) => h("tr", {}, h("td", {}, serviceChip(name)), h("td", {}, r.reason), h("td", {}, r.category), h("td", { class: "num" }, count(r.quantity)))),
        ),
      ),
    ),
  ];
}

/** @param {Refusal[]} refusals */
function refusalsSection(refusals) {
  if (!refusals.length) return section("Recent refusals", empty("nothing refused"));
  return section(
    `Recent refusals (${refusals.length})`,
    h(
      "table",
      { class: "grid refusals" },
      h("thead", {}, h("tr", {}, ["received", "status", "reason", "detail", "project", "path", "size", "client"].map((c) => h("th", {}, c)))),
      h(
        "tbody",
        {},
        refusals.map((r) =>
          h(
            "tr",
            {},
            h("td", { class: "nowrap" }, timeEl(r.received_at)),
            h("td", {}, h("span", { class: ["badge", Number(r.status) >= 500 ? "bad" : "warn"] }, String(r.status)), r.injected ? h("span", { class: "badge muted-badge" }, "injected") : null),
            h("td", {}, r.reason ?? ""),
            h("td", { class: "wrap-text" }, r.detail ?? ""),
            h("td", { class: "muted" }, r.project_id === null || r.project_id === undefined ? "—" : String(r.project_id)),
            h("td", {}, h("code", {}, r.path ?? "")),
            h("td", { class: "num" }, r.size === null || r.size === undefined ? "—" : bytes(r.size)),
            h("td", { class: "muted wrap-text", title: r.user_agent ?? "" }, r.remote_addr ?? "", r.user_agent ? ` · ${r.user_agent}` : ""),
          ),
        ),
      ),
    ),
  );
}
