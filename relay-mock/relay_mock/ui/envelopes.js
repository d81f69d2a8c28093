// @ts-check
// Envelopes: the live list with filters, and one envelope with its items.

import { append, empty, h, kvTable, section, whileLoading } from "./dom.js";
import { route, routeWithQuery } from "./router.js";
import { api, errorBox, isAbort } from "./api.js";
import { bytes, idEl, isObject, jsonView, serviceChip, timeEl, typeBadge } from "./format.js";
import { clickableRow, filterForm, readFilters } from "./lists.js";
import { itemTabs } from "./relay.js";

/**
 * @typedef {import("./router.js").ViewContext} ViewContext
 * @typedef {import("./types").Envelope} Envelope
 * @typedef {import("./types").EnvelopePage} EnvelopePage
 * @typedef {import("./types").LiveEnvelope} LiveEnvelope
 * @typedef {import("./types").Item} Item
 * @typedef {import("./types").Stats} Stats
 */

/** @type {import("./lists.js").FilterField[]} */
const FIELDS = [
  { name: "type", label: "type", placeholder: "any type", props: { spellcheck: false, attrs: { list: "item-types" } } },
  { name: "project", label: "project", placeholder: "name or id", props: { spellcheck: false, attrs: { list: "project-names" } } },
  { name: "trace_id", label: "trace", placeholder: "trace id", props: { spellcheck: false } },
  { name: "event_id", label: "event", placeholder: "event id", props: { spellcheck: false } },
  { name: "release", label: "release", placeholder: "release", props: { spellcheck: false } },
  { name: "environment", label: "env", placeholder: "environment", props: { spellcheck: false } },
  { name: "server_name", label: "server", placeholder: "server name", props: { spellcheck: false } },
  // Forwarding to a real Sentry (RELAY_FORWARD): the outbox state; "none" = not forwarded.
  { name: "forward", label: "forwarded", choices: ["", "pending", "sent", "rejected", "expired", "none"], any: "any" },
];
const ITEM_TYPES = [
  "event", "transaction", "attachment", "session", "sessions", "client_report", "check_in",
  "profile", "profile_chunk", "span", "log", "statsd", "replay_event", "user_report", "feedback",
];
const PAGE = 50;
const MAX_ROWS = 1000;

// ---------------------------------------------------------------- list

/**
 * Not a pagedTable (lists.js): arrivals are added at the top as they come, not re-read, so
 * a flood stays cheap; it can pause, and it keeps at most MAX_ROWS rows.
 * @param {HTMLElement} page
 * @param {ViewContext} ctx
 */
export async function envelopeList(page, ctx) {
  const filters = readFilters(ctx.params, FIELDS);
  const active = Object.values(filters).some(Boolean);
  const tbody = h("tbody", {});
  /** @type {Set<string>} envelope ids shown */
  const seen = new Set();
  const emptyNote = empty(active ? "No envelope matches these filters yet." : "No envelopes yet. Point an SDK at this relay.");
  emptyNote.hidden = true;
  const status = h("div", { class: "list-status" }, emptyNote);
  const moreButton = h("button", { type: "button", class: "btn", hidden: true }, "Load more");
  /** @type {number | null} */
  let cursor = null;
  let paused = false;
  /** @type {LiveEnvelope[]} */
  let pending = [];

  const pauseButton = h("button", { type: "button", class: "btn", title: "stop adding arriving envelopes" }, "Pause");
  const pendingNote = h("button", { type: "button", class: "btn pending", hidden: true });

  page.append(
    h("div", { class: "page-head" }, h("h1", {}, "Envelopes"), h("span", { class: "spacer" }), pendingNote, pauseButton),
    filterForm("#/envelopes", filters, FIELDS, { submit: "Filter", applyOnChange: true }),
    h(
      "table",
      { class: "grid envelopes" },
      h(
        "thead",
        {},
        h("tr", {}, ["received", "project", "items", "event", "trace", "size"].map((c) => h("th", {}, c))),
      ),
      tbody,
    ),
    status,
    h("div", { class: "more" }, moreButton),
  );

  /**
   * @param {Envelope[]} envelopes
   * @param {{ atTop: boolean }} where atTop: arrivals, newest first
   */
  function addRows(envelopes, { atTop }) {
    const rows = [];
    for (const envelope of envelopes) {
      if (seen.has(envelope.id)) continue;
      seen.add(envelope.id);
      rows.push(envelopeRow(envelope, atTop));
    }
    if (atTop) tbody.prepend(...rows);
    else tbody.append(...rows);
    // A flood must not grow the page without bound: drop the oldest rows and page on from there.
    while (tbody.rows.length > MAX_ROWS) {
      const last = tbody.rows[tbody.rows.length - 1];
      seen.delete(last.dataset.id ?? "");
      last.remove();
      cursor = Number(tbody.rows[tbody.rows.length - 1].dataset.seq);
      moreButton.hidden = false;
    }
    updateStatus();
  }

  function updateStatus() {
    emptyNote.hidden = tbody.rows.length > 0;
  }

  async function loadPage() {
    moreButton.disabled = true;
    const query = new URLSearchParams({ ...nonEmpty(filters), payloads: "false", limit: String(PAGE) });
    if (cursor !== null) query.set("cursor", String(cursor));
    try {
      const data = /** @type {EnvelopePage} */ (await api(`/inspect/envelopes?${query}`, { signal: ctx.signal }));
      addRows(data.envelopes, { atTop: false });
      cursor = data.next_cursor ?? null;
      moreButton.hidden = cursor === null;
    } catch (err) {
      if (isAbort(err)) return;
      status.append(errorBox(err));
    } finally {
      moreButton.disabled = false;
    }
  }

  function flushPending() {
    const batch = pending;
    pending = [];
    pendingNote.hidden = true;
    addRows(batch.reverse(), { atTop: true });
  }

  moreButton.addEventListener("click", loadPage);
  pauseButton.addEventListener("click", () => {
    paused = !paused;
    pauseButton.textContent = paused ? "Resume" : "Pause";
    pauseButton.classList.toggle("active", paused);
    if (!paused) flushPending();
  });
  pendingNote.addEventListener("click", () => {
    if (paused) pauseButton.click();
  });

  /** @type {number | null} */
  let frame = null;
  ctx.onLive((summary) => {
    if (!matches(summary, filters)) return;
    if (summary.lagged && !status.querySelector(".lagged")) {
      status.append(h("div", { class: "notice lagged" }, "The live stream fell behind and skipped envelopes; reload for a complete list."));
    }
    pending.push(summary);
    if (paused) {
      pendingNote.hidden = false;
      pendingNote.textContent = `${pending.length} new`;
      return;
    }
    // Batch arrivals into one DOM update per frame: load tests send thousands a second.
    if (!frame) {
      frame = requestAnimationFrame(() => {
        frame = null;
        if (!paused) flushPending();
      });
    }
  });
  ctx.onCleanup(() => frame && cancelAnimationFrame(frame));
  ctx.onReconnect(catchUp);

  async function catchUp() {
    // Whatever arrived during the outage: the newest page, minus what is already shown.
    const query = new URLSearchParams({ ...nonEmpty(filters), payloads: "false", limit: String(PAGE) });
    try {
      const data = /** @type {EnvelopePage} */ (await api(`/inspect/envelopes?${query}`, { signal: ctx.signal }));
      const top = tbody.rows.length ? Number(tbody.rows[0].dataset.seq) : -1;
      addRows(data.envelopes.filter((e) => e.seq > top), { atTop: true });
    } catch (err) {
      if (!isAbort(err)) status.append(errorBox(err));
    }
  }

  append(page, datalists());
  await loadPage();
}

/** @param {{ [key: string]: string }} object */
function nonEmpty(object) {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v));
}

function datalists() {
  const projects = h("datalist", { id: "project-names" });
  api("/inspect/stats")
    .then((answer) => {
      const stats = /** @type {Stats} */ (answer);
      for (const [name, info] of Object.entries(stats.by_project || {})) {
        projects.append(h("option", { value: name }), h("option", { value: String(info.project_id) }));
      }
    })
    .catch(() => {});
  return [h("datalist", { id: "item-types" }, ITEM_TYPES.map((t) => h("option", { value: t }))), projects];
}

/**
 * Whether a live summary passes the active filters, as /inspect/envelopes would decide.
 * @param {LiveEnvelope} summary
 * @param {{ [key: string]: string }} filters
 */
export function matches(summary, filters) {
  // An arrival's forwarding state changes after it is listed: a list filtered by it is re-read, not fed live.
  if (filters.forward) return false;
  if (filters.project) {
    const p = summary.project || {};
    if (filters.project !== p.name && filters.project !== String(p.id)) return false;
  }
  const items = summary.items || [];
  /** @param {string | null | undefined} id */
  const norm = (id) => (id ? String(id).replace(/-/g, "").toLowerCase() : "");
  if (filters.trace_id) {
    const wanted = norm(filters.trace_id);
    if (norm(summary.trace_id) !== wanted && !items.some((i) => norm(i.trace_id) === wanted)) return false;
  }
  /** @type {Array<[keyof Item, string]>} */
  const candidates = [
    ["type", filters.type],
    ["event_id", norm(filters.event_id)],
    ["release", filters.release],
    ["environment", filters.environment],
    ["server_name", filters.server_name],
  ];
  const itemFilters = candidates.filter(([, v]) => v);
  if (!itemFilters.length) return true;
  // The API requires one item to match every item-level filter at once.
  return items.some((item) =>
    itemFilters.every(([key, value]) => (key === "event_id" ? norm(item.event_id) === value : item[key] === value)),
  );
}

/**
 * @param {Envelope} envelope
 * @param {boolean} fresh an arrival, not a page read
 */
function envelopeRow(envelope, fresh) {
  const request = envelope.request || {};
  const rawSize = request.raw_size;
  const encoding = request.content_encoding;
  const href = route("envelopes", envelope.id);
  const row = clickableRow(
    href,
    { class: fresh ? "fresh" : "", dataset: { id: envelope.id, seq: String(envelope.seq) } },
    h("td", { class: "nowrap" }, h("a", { href, class: "row-link" }, timeEl(envelope.received_at))),
    h("td", {}, serviceChip(envelope.project?.name ?? String(envelope.project?.id ?? "?"))),
    h("td", { class: "items-cell" }, otlpMark(envelope), itemSummary(envelope)),
    h("td", {}, idEl(envelope.event_id)),
    h("td", {}, envelope.trace_id ? h("a", { href: route("traces", envelope.trace_id) }, idEl(envelope.trace_id)) : idEl(null)),
    h(
      "td",
      { class: "num nowrap" },
      bytes(rawSize),
      encoding && encoding !== "identity" ? h("span", { class: "muted" }, ` ${encoding}`) : null,
    ),
  );
  return row;
}

/**
 * What an OTLP/HTTP request says of itself (the header relay-mock wrote for it); null for an envelope.
 * @param {Envelope} envelope
 * @returns {{ signal: string, content_type: string, accepted: number, rejected: number, error_message?: string } | null}
 */
function otlpHeader(envelope) {
  const otlp = envelope.header?.otlp;
  return String(envelope.request?.endpoint ?? "").startsWith("otlp_") && isObject(otlp) ? /** @type {any} */ (otlp) : null;
}

/**
 * The list's mark of an OTLP request: signal and encoding.
 * @param {Envelope} envelope
 */
function otlpMark(envelope) {
  const otlp = otlpHeader(envelope);
  if (!otlp) return null;
  const encoding = otlp.content_type === "application/json" ? "json" : "protobuf";
  const title = `OTLP/HTTP ${otlp.signal} (${otlp.content_type}): ${otlp.accepted} taken, ${otlp.rejected} rejected`;
  return h("span", { class: "badge otlp small", title, dataset: { ingest: "otlp" } }, `OTLP ${otlp.signal} · ${encoding}`);
}

/** @param {Envelope} envelope */
function itemSummary(envelope) {
  if (Array.isArray(envelope.items) && envelope.items.length && !("payload" in envelope.items[0])) {
    return envelope.items.map((item) =>
      h(
        "span",
        { class: "item-sum" },
        typeBadge(item.type),
        item.level && item.type === "event" ? h("span", { class: `lvl level-${safe(item.level)}` }, item.level) : null,
        item.title || item.name ? h("span", { class: "item-name" }, item.title || item.name) : null,
        item.title && item.name && item.title !== item.name ? h("span", { class: "muted" }, ` in ${item.name}`) : null,
        item.problem ? h("span", { class: "problem", title: item.problem }, "⚠ ", item.problem) : null,
      ),
    );
  }
  /** @type {Map<string, number>} */
  const counts = new Map();
  for (const type of envelope.item_types || []) counts.set(type, (counts.get(type) || 0) + 1);
  const trace = envelope.header?.trace;
  const dscTransaction = isObject(trace) ? trace.transaction : undefined;
  return [
    [...counts].map(([type, n]) => h("span", { class: "item-sum" }, typeBadge(type), n > 1 ? h("span", { class: "muted" }, `×${n}`) : null)),
    typeof dscTransaction === "string"
      ? h("span", { class: "dsc-hint", title: "the transaction that started this trace (from the envelope's DSC)" }, "trace ", h("span", {}, dscTransaction))
      : null,
  ];
}

/** @param {unknown} text */
function safe(text) {
  return String(text).replace(/[^a-z0-9_-]/gi, "");
}

// ---------------------------------------------------------------- one envelope

/**
 * @param {HTMLElement} page
 * @param {ViewContext} ctx
 * @param {string} id
 */
export async function envelopeDetail(page, ctx, id) {
  const envelope = await whileLoading(
    page,
    /** @type {Promise<Envelope>} */ (api(`/inspect/envelopes/${encodeURIComponent(id)}`, { signal: ctx.signal })),
  );
  const request = envelope.request || {};
  const header = envelope.header || {};

  page.append(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Envelope ", h("code", {}, envelope.id)),
      h("span", { class: "spacer" }),
      h(
        "a",
        { class: "btn", href: `/inspect/envelopes/${encodeURIComponent(envelope.id)}/raw`, target: "_blank" },
        otlpHeader(envelope) ? "Raw OTLP request" : "Raw bytes",
      ),
      envelope.trace_id ? h("a", { class: "btn", href: route("traces", envelope.trace_id) }, "Trace view") : null,
      envelope.trace_id
        ? h("a", { class: "btn", href: routeWithQuery("#/envelopes", { trace_id: envelope.trace_id }) }, "Same trace")
        : null,
    ),
    h(
      "div",
      { class: "columns" },
      section(
        "Received",
        kvTable(
          [
            ["project", h("span", {}, serviceChip(envelope.project?.name ?? "?"), h("span", { class: "muted" }, ` id ${envelope.project?.id}`))],
            ["received", timeEl(envelope.received_at)],
            ["sequence", String(envelope.seq)],
            ["event id", envelope.event_id ? h("code", {}, envelope.event_id) : null],
            ["trace id", envelope.trace_id ? h("a", { href: route("traces", envelope.trace_id) }, h("code", {}, envelope.trace_id)) : null],
            ["items", (envelope.item_types || []).map(typeBadge)],
          ],
          { skipEmpty: true },
        ),
      ),
      section(
        "Request",
        kvTable(
          [
            ["endpoint", request.endpoint],
            ["OTLP", otlpMark(envelope)],
            ["OTLP rejected", otlpHeader(envelope)?.error_message ?? null],
            ["path", request.path ? h("code", {}, request.path) : null],
            ["auth", request.auth],
            ["public key", request.public_key ? h("code", {}, request.public_key) : null],
            ["sdk client", request.sdk_client],
            ["encoding", request.content_encoding],
            ["compressed", request.compressed_size === null || request.compressed_size === undefined ? null : bytes(request.compressed_size)],
            ["raw size", bytes(request.raw_size)],
            ["user agent", request.user_agent],
            ["remote addr", request.remote_addr],
          ],
          { skipEmpty: true },
        ),
      ),
    ),
  );

  if (envelope.forward) page.append(forwardSection(envelope.forward));

  const trace = header.trace;
  const headerFields = Object.entries(header).filter(([key]) => key !== "trace");
  page.append(
    section(
      "Envelope header",
      h(
        "div",
        { class: "columns tight" },
        h("div", {}, h("h3", {}, "fields"), headerFields.length ? kvTable(headerFields) : empty("none")),
        trace && typeof trace === "object"
          ? h("div", { class: "dsc" }, h("h3", {}, "dynamic sampling context (trace)"), kvTable(Object.entries(trace)))
          : h("div", { class: "dsc" }, h("h3", {}, "dynamic sampling context (trace)"), empty("none: this envelope carries no DSC")),
      ),
      h("details", {}, h("summary", {}, "header as JSON"), jsonView(header)),
    ),
  );

  const items = envelope.items || [];
  const relay = ctx.params.get("relay"); // ?relay=<index or item type>: open that item's "What Sentry stores"
  const opened = relay === null ? -1 : /^\d+$/.test(relay) ? Number(relay) : items.findIndex((i) => i.header?.type === relay);
  items.forEach((item, index) => page.append(itemPanel(item, index, items.length, envelope.id, index === opened)));
  if (!items.length) page.append(empty("This envelope has no items."));
}

/**
 * @param {Item} item
 * @param {number} index
 * @param {number} total
 * @param {string} envelopeId
 * @param {boolean} openRelay
 */
function itemPanel(item, index, total, envelopeId, openRelay) {
  const header = item.header || {};
  const payload = item.payload;
  const type = typeof header.type === "string" ? header.type : "?";
  const links = [];
  const eventId = isObject(payload) ? payload.event_id : undefined;
  if (type === "event" && typeof eventId === "string") links.push(h("a", { href: route("errors", eventId) }, "error view"));
  return h(
    "section",
    { class: ["panel", "item"] },
    h(
      "h2",
      {},
      `Item ${index + 1}/${total} `,
      typeBadge(type),
      typeof header.length === "number" ? h("span", { class: "muted" }, ` ${bytes(header.length)}`) : null,
      header.content_type ? h("span", { class: "muted" }, ` ${header.content_type}`) : null,
      h("span", { class: "spacer" }),
      links,
    ),
    h("details", { class: "item-header" }, h("summary", {}, "item header"), jsonView(header)),
    itemTabs(payloadView(payload), item, envelopeId, index, { open: openRelay }),
  );
}

/** @param {unknown} payload */
function payloadView(payload) {
  if (payload === null || payload === undefined) return empty("empty payload");
  if (typeof payload === "string") return h("pre", { class: "text-payload" }, payload);
  const base64 = isObject(payload) && Object.keys(payload).length === 1 ? payload.base64 : undefined;
  if (typeof base64 === "string") {
    const approx = Math.floor((base64.length * 3) / 4);
    return h(
      "div",
      {},
      h("div", { class: "muted" }, `binary payload, about ${bytes(approx)} (base64):`),
      h("pre", { class: "text-payload base64" }, base64.length > 20000 ? `${base64.slice(0, 20000)}…` : base64),
    );
  }
  return jsonView(payload);
}

/**
 * Where the envelope is on its way to the real Sentry (RELAY_FORWARD).
 * @param {import("./types").ForwardState} forward
 */
function forwardSection(forward) {
  return section(
    "Forwarded upstream",
    kvTable(
      [
        ["state", h("span", { class: ["forward-state", forward.state] }, forward.state)],
        ["attempts", String(forward.attempts)],
        ["upstream status", forward.status === null || forward.status === undefined ? null : String(forward.status)],
        ["next attempt", forward.next_attempt_at ? timeEl(forward.next_attempt_at) : null],
        ["possibly sent twice", forward.possibly_duplicated ? "yes: an earlier send's answer was lost" : null],
        ["upstream said", forward.detail ? h("pre", { class: "forward-detail" }, forward.detail) : null],
        ["updated", timeEl(forward.updated_at)],
      ],
      { skipEmpty: true },
    ),
    h("p", {}, h("a", { href: "#/forwarding" }, "Forwarding, per project")),
  );
}
