// @ts-check
// "What Sentry stores": an item beside what Relay's own normalization and data scrubbing would
// store, each change marked with the rule that made it; and the leaks report. Captured values are
// rendered as text nodes only (dom.js's h()), like everywhere else.

import { append, empty, h, link, section, whileLoading } from "./dom.js";
import { route } from "./router.js";
import { api, errorBox } from "./api.js";
import { idEl, jsonView, serviceChip, timeEl, typeBadge } from "./format.js";

/**
 * @typedef {import("./types").Item} Item
 * @typedef {import("./types").ItemView} ItemView
 * @typedef {import("./types").Change} Change
 * @typedef {import("./types").Leak} Leak
 * @typedef {import("./types").LeakReport} LeakReport
 * @typedef {import("./types").Suggestion} Suggestion
 * @typedef {import("./types").RelayViewStats} RelayViewStats
 */

// The item types sentry_relay covers; logs, v2 spans and metrics it does not.
export const RELAY_TYPES = new Set(["event", "transaction", "feedback"]);
const NOT_COVERED = "Relay's normalization and scrubbing are shown for events, transactions and feedback only (sentry_relay does not cover logs, v2 spans or metrics).";

/** @type {Record<ItemView["verdict"], string>} */
const VERDICTS = {
  ok: "Relay would store this item; the values below changed on the way.",
  repaired: "Relay would store this item after repairing it: invalid values dropped and recorded as errors.",
  rejected: "Relay would refuse this item: Sentry would not store it.",
  failed: "Relay's code could not give a verdict on this item within its budget.",
};

/**
 * Tabs over an item's payload: "Payload" (as sent) and "What Sentry stores".
 * @param {HTMLElement} payloadNode
 * @param {Item} item
 * @param {string} envelopeId
 * @param {number} index the item's place in its envelope
 * @param {{ open?: boolean }} [options] open: show "What Sentry stores" first
 */
export function itemTabs(payloadNode, item, envelopeId, index, { open = false } = {}) {
  const type = item.header?.type;
  if (typeof type !== "string" || !RELAY_TYPES.has(type)) return h("div", { class: "payload" }, payloadNode);
  const sentPane = h("div", { class: "payload" }, payloadNode);
  const relayPane = h("div", { class: "relay-view", hidden: true });
  let loaded = false;
  const tabs = [
    h("button", { type: "button", class: "tab", attrs: { role: "tab" }, dataset: { tab: "sent" } }, "Payload"),
    h("button", { type: "button", class: "tab", attrs: { role: "tab" }, dataset: { tab: "relay" } }, "What Sentry stores"),
  ];
  /** @param {string | undefined} name */
  const select = (name) => {
    for (const tab of tabs) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    sentPane.hidden = name !== "sent";
    relayPane.hidden = name !== "relay";
    if (name === "relay" && !loaded) {
      loaded = true;
      loadView(relayPane, envelopeId, index, item.payload);
    }
  };
  for (const tab of tabs) tab.addEventListener("click", () => select(tab.dataset.tab));
  select(open ? "relay" : "sent");
  return h("div", { class: "item-tabs" }, h("div", { class: "tabs", attrs: { role: "tablist" } }, tabs), sentPane, relayPane);
}

/**
 * @param {HTMLElement} pane
 * @param {string} envelopeId
 * @param {number} index
 * @param {unknown} sent the payload as the SDK sent it
 */
async function loadView(pane, envelopeId, index, sent) {
  const request = /** @type {Promise<ItemView>} */ (api(`/inspect/envelopes/${encodeURIComponent(envelopeId)}/items/${index}/relay`));
  try {
    append(pane, renderView(await whileLoading(pane, request), sent));
  } catch (err) {
    pane.append(errorBox(err));
  }
}

/**
 * @param {ItemView} view
 * @param {unknown} sent
 */
function renderView(view, sent) {
  const changes = Array.isArray(view.changes) ? view.changes : [];
  const byPath = new Map(changes.map((c) => [c.path, c]));
  /** @type {HTMLElement[]} */
  const out = [
    h(
      "div",
      { class: ["verdict", `verdict-${safe(view.verdict)}`], dataset: { verdict: String(view.verdict) } },
      h("strong", {}, String(view.verdict)),
      " ",
      VERDICTS[view.verdict] || "",
      view.detail ? h("div", { class: "verdict-detail" }, String(view.detail)) : null,
    ),
  ];
  if (changes.length) out.push(changesTable(changes));
  else if (view.stored) out.push(h("p", { class: "muted" }, "Relay changes nothing in this item."));
  if (Array.isArray(view.leaks) && view.leaks.length) out.push(leaksTable(view.leaks));
  if (view.stored) {
    out.push(
      h(
        "div",
        { class: "side-by-side" },
        h("div", {}, h("h3", {}, "As sent"), jsonView(sent)),
        h("div", {}, h("h3", {}, "What Sentry stores"), annotatedJson(withoutMeta(view.stored), byPath)),
      ),
    );
  }
  if (Array.isArray(view.suggestions) && view.suggestions.length) out.push(suggestionsList(view.suggestions));
  out.push(
    h(
      "details",
      { class: "relay-settings" },
      h("summary", {}, "Data-scrubbing settings of this project (RELAY_SCRUBBING)"),
      jsonView(view.settings || {}),
    ),
    h("p", { class: "muted small" }, NOT_COVERED),
  );
  return out;
}

/** @param {{ [key: string]: unknown }} stored */
function withoutMeta(stored) {
  const copy = { ...stored };
  delete copy._meta;
  return copy;
}

/** @param {Change[]} changes */
function changesTable(changes) {
  return h(
    "table",
    { class: "grid relay-changes" },
    h("thead", {}, h("tr", {}, ["value", "rule", "what", "stage", "before"].map((c) => h("th", {}, c)))),
    h(
      "tbody",
      {},
      changes.map((c) =>
        h(
          "tr",
          { dataset: { path: c.path } },
          h("td", {}, h("code", {}, c.path || "(event)")),
          h("td", {}, (c.rules || []).map((r) => h("span", { class: "rule" }, r)), (c.errors || []).map((e) => h("span", { class: "rule error" }, e))),
          h("td", {}, (c.remarks || []).map((r) => r.kind).filter(Boolean).join(", ") || (c.errors?.length ? "invalid, dropped" : "")),
          h("td", {}, c.stage),
          h(
            "td",
            {},
            c.original !== null && c.original !== undefined
              ? h("code", {}, typeof c.original === "string" ? c.original : JSON.stringify(c.original))
              : c.original_length
                ? h("span", { class: "muted" }, `${c.original_length} characters`)
                : "",
          ),
        ),
      ),
    ),
  );
}

/** @param {Leak[]} leaks */
function leaksTable(leaks) {
  return section(
    "Secrets that survive",
    h(
      "table",
      { class: "grid relay-leaks" },
      h("thead", {}, h("tr", {}, ["where", "kind", "why", "starts with"].map((c) => h("th", {}, c)))),
      h(
        "tbody",
        {},
        leaks.map((l) =>
          h("tr", {}, h("td", {}, h("code", {}, l.path)), h("td", {}, l.kind), h("td", {}, l.reason), h("td", {}, h("code", {}, `${l.preview} (${l.length})`))),
        ),
      ),
    ),
  );
}

/** @param {Suggestion[]} suggestions */
function suggestionsList(suggestions) {
  const items = suggestions.filter((s) => s && typeof s.path === "string");
  return h(
    "details",
    { class: "relay-suggestions" },
    h("summary", {}, `Selector suggestions for a project's own rules (${items.length})`),
    h(
      "ul",
      {},
      items.map((s) =>
        h(
          "li",
          {},
          h("code", { class: "selector" }, s.path),
          s.value !== null && s.value !== undefined ? h("span", { class: "muted" }, ` = ${String(s.value).slice(0, 80)}`) : null,
          " ",
          h("button", { type: "button", class: "btn small", on: { click: () => navigator.clipboard?.writeText(s.path) } }, "copy"),
        ),
      ),
    ),
  );
}

/**
 * Pretty-printed JSON whose changed values carry a mark and the rules that changed them.
 * @param {unknown} value
 * @param {Map<string, Change>} byPath
 */
function annotatedJson(value, byPath) {
  const pre = h("pre", { class: "json annotated" });
  write(pre, value, [], 0, byPath);
  return pre;
}

/**
 * @param {HTMLElement} out
 * @param {unknown} value
 * @param {string[]} path
 * @param {number} depth
 * @param {Map<string, Change>} byPath
 */
function write(out, value, path, depth, byPath) {
  const indent = "  ".repeat(depth + 1);
  const closing = "  ".repeat(depth);
  const change = byPath.get(path.join("."));
  const target = change ? h("span", { class: ["changed", `stage-${safe(change.stage)}`], title: describe(change), dataset: { path: path.join(".") } }) : out;
  if (change) out.append(target);
  if (value === null) target.append(h("span", { class: "j-null" }, "null"));
  else if (typeof value === "string") target.append(h("span", { class: "j-str" }, JSON.stringify(value)));
  else if (typeof value === "number") target.append(h("span", { class: "j-num" }, String(value)));
  else if (typeof value === "boolean") target.append(h("span", { class: "j-bool" }, String(value)));
  else if (Array.isArray(value)) {
    if (!value.length) target.append("[]");
    else {
      target.append("[\n");
      value.forEach((item, i) => {
        target.append(indent);
        write(target, item, [...path, String(i)], depth + 1, byPath);
        target.append(i < value.length - 1 ? ",\n" : "\n");
      });
      target.append(`${closing}]`);
    }
  } else if (typeof value === "object") {
    const entries = Object.entries(value);
    if (!entries.length) target.append("{}");
    else {
      target.append("{\n");
      entries.forEach(([key, item], i) => {
        target.append(indent, h("span", { class: "j-key" }, JSON.stringify(key)), ": ");
        write(target, item, [...path, key], depth + 1, byPath);
        target.append(i < entries.length - 1 ? ",\n" : "\n");
      });
      target.append(`${closing}}`);
    }
  } else target.append(String(value));
  if (change) out.append(h("span", { class: "rule-note" }, `  ← ${[...(change.rules || []), ...(change.errors || [])].join(", ")}`));
}

/** @param {Change} change */
function describe(change) {
  const parts = [...(change.rules || []), ...(change.errors || [])];
  const before = change.original !== null && change.original !== undefined ? `; was ${JSON.stringify(change.original)}` : "";
  return `${change.stage}: ${parts.join(", ")}${before}`;
}

/** @param {unknown} text */
function safe(text) {
  return String(text).replace(/[^a-z0-9_-]/gi, "");
}

// ---------------------------------------------------------------- the leaks page

/**
 * @param {HTMLElement} page
 * @param {import("./router.js").ViewContext} ctx
 */
export async function leaksView(page, ctx) {
  page.append(h("div", { class: "page-head" }, h("h1", {}, "Leaks")));
  const data = await whileLoading(page, /** @type {Promise<LeakReport>} */ (api("/inspect/leaks?limit=500", { signal: ctx.signal })));
  page.append(
    h(
      "p",
      { class: "muted" },
      "Values that look like secrets (passwords, tokens, API keys, bearer credentials, cookies, card numbers) and survive both the SDK's hooks and Relay's data scrubbing: what Sentry would store. ",
      data.covers ? `${data.covers}.` : "",
      data.pending_envelopes ? ` ${data.pending_envelopes} envelopes are still being looked at.` : "",
    ),
  );
  const items = Array.isArray(data.items) ? data.items : [];
  if (!items.length) {
    page.append(empty("No leaks: nothing that looks like a secret would reach Sentry."));
    return;
  }
  const rows = [];
  for (const item of items) {
    for (const leak of item.leaks || []) {
      rows.push(
        h(
          "tr",
          {},
          h("td", { class: "nowrap" }, timeEl(item.received_at)),
          h("td", {}, serviceChip(item.project?.name ?? "?")),
          h("td", {}, typeBadge(item.type), " ", link(`${route("envelopes", item.envelope_id)}?relay=${item.item}`, idEl(item.event_id || item.envelope_id))),
          h("td", {}, h("code", {}, leak.path)),
          h("td", {}, leak.kind),
          h("td", {}, leak.reason),
          h("td", {}, h("code", {}, `${leak.preview} (${leak.length})`)),
        ),
      );
    }
  }
  page.append(
    h(
      "table",
      { class: "grid leaks" },
      h("thead", {}, h("tr", {}, ["received", "project", "item", "where", "kind", "why", "starts with"].map((c) => h("th", {}, c)))),
      h("tbody", {}, rows),
    ),
  );
}

// ---------------------------------------------------------------- on the Stats page

/** @type {[keyof import("./types").RelayVerdictCounts, string][]} */
const COUNTS = [
  ["ok", "stored as sent"],
  ["repaired", "repaired"],
  ["rejected", "rejected"],
  ["failed", "not computed"],
  ["normalization_errors", "normalization errors"],
  ["scrubbed_values", "values scrubbed"],
  ["items_with_leaks", "items with leaks"],
];

/**
 * Per project: what Relay would do with its events, transactions and feedback.
 * @param {RelayViewStats | null | undefined} relay
 */
export function relayStatsSection(relay) {
  const projects = Object.entries(relay?.by_project || {});
  return section(
    "What Sentry would store (Relay's verdicts)",
    projects.length
      ? h(
          "table",
          { class: "grid relay-stats" },
          h("thead", {}, h("tr", {}, h("th", {}, "project"), COUNTS.map(([, label]) => h("th", { class: "num" }, label)))),
          h(
            "tbody",
            {},
            projects.map(([name, counts]) =>
              h("tr", { dataset: { project: name } }, h("td", {}, serviceChip(name)), COUNTS.map(([key]) => h("td", { class: "num", dataset: { count: key } }, String(counts[key] ?? 0)))),
            ),
          ),
        )
      : empty("no events, transactions or feedback yet"),
    relay?.pending_envelopes ? h("p", { class: "muted" }, `${relay.pending_envelopes} envelopes still to look at.`) : null,
    h("p", { class: "muted small" }, link("#/leaks", "Leaks"), " · ", NOT_COVERED),
  );
}
