// @ts-check
// Traces: the list, and one trace as a waterfall across services.

import { clear, empty, h, kvTable, loading, plain, section } from "./dom.js";
import { route, routeWithQuery } from "./router.js";
import { api, errorBox, isAbort } from "./api.js";
import { count, duration, idEl, levelBadge, serviceChip, serviceColor, timeEl } from "./format.js";
import { debounce } from "./live.js";
import { clickableRow, pagedTable } from "./lists.js";

/**
 * @typedef {import("./router.js").ViewContext} ViewContext
 * @typedef {import("./types").Trace} Trace
 * @typedef {import("./types").TraceSummary} TraceSummary
 * @typedef {import("./types").TraceNode} TraceNode
 * @typedef {import("./types").TraceError} TraceError
 * @typedef {NonNullable<import("./types").TraceVerification["verdict"]>} TraceVerdict
 * @typedef {import("./types").TelemetryRecord} TelemetryRecord
 */

/**
 * What the trace view keeps across its live re-renders: which subtrees the reader folded, and the
 * trace's logs and metrics by span.
 * @typedef {{ collapsed: Set<string>, telemetry?: Map<string, TelemetryRecord[]> }} TraceViewState
 */
import { bySpan, recordLine, traceTelemetry } from "./telemetry.js";

// ---------------------------------------------------------------- list

/**
 * @param {HTMLElement} page
 * @param {ViewContext} ctx
 */
export async function traceList(page, ctx) {
  await pagedTable(page, ctx, {
    title: "Traces",
    subtitle: "most recently active first",
    route: "#/traces",
    endpoint: "/inspect/traces",
    limit: 50,
    tableClass: "traces",
    columns: ["started", "root transaction", "services", "tx", "errors", "duration", "status"],
    rows: (/** @type {import("./types").TracePage} */ data) => data.traces,
    row: traceRow,
    empty: "No traces yet: transactions and errors with a trace id appear here.",
    // Traces grow as services report.
    liveWhen: (summary) => Boolean(summary.trace_id || (summary.items || []).some((i) => i.trace_id)),
  });
}

/** @param {TraceSummary} trace */
function traceRow(trace) {
  const href = route("traces", trace.trace_id);
  const flags = [];
  if (trace.verdict) flags.push(verdictBadge(trace.verdict));
  if (trace.broken_links) flags.push(h("span", { class: "badge bad" }, `${trace.broken_links} broken`));
  if (!trace.dsc_consistent) flags.push(h("span", { class: "badge bad" }, "DSC mismatch"));
  if (!trace.transactions) flags.push(h("span", { class: "badge muted-badge" }, "errors only"));
  return clickableRow(
    href,
    { dataset: { traceId: trace.trace_id } },
    h("td", { class: "nowrap" }, h("a", { href, class: "row-link" }, timeEl(trace.start))),
    h("td", { class: "wrap-text" }, trace.root ?? h("span", { class: "muted" }, "—"), h("div", {}, idEl(trace.trace_id, 32))),
    h("td", {}, (trace.services || []).map(serviceChip)),
    h("td", { class: "num" }, count(trace.transactions)),
    h("td", { class: ["num", trace.errors ? "has-errors" : ""] }, count(trace.errors)),
    h("td", { class: "num nowrap" }, duration(trace.duration_ms)),
    h("td", {}, flags),
  );
}

// ---------------------------------------------------------------- one trace

/**
 * @param {HTMLElement} page
 * @param {ViewContext} ctx
 * @param {string} traceId
 */
export async function traceDetail(page, ctx, traceId) {
  const body = h("div", {});
  page.append(body);
  /** @type {TraceViewState} */
  const state = { collapsed: new Set() };

  async function load() {
    const [trace, records] = await Promise.all([
      /** @type {Promise<Trace>} */ (api(`/inspect/traces/${encodeURIComponent(traceId)}`, { signal: ctx.signal })),
      traceTelemetry(traceId, ctx.signal),
    ]);
    state.telemetry = bySpan(records);
    clear(body).append(...renderTrace(trace, state), telemetrySection(records, trace));
  }

  body.append(loading());
  try {
    await load();
  } catch (err) {
    clear(body);
    throw err;
  }
  const refresh = debounce(() => load().catch((err) => isAbort(err) || body.prepend(errorBox(err))), 800);
  const wanted = traceId.replace(/-/g, "").toLowerCase();
  // Log and metric containers hold many traces and name none: re-read, less often, when they arrive.
  const refreshTelemetry = debounce(() => refresh(), 3000);
  ctx.onLive((summary) => {
    if (summary.trace_id === wanted || (summary.items || []).some((i) => i.trace_id === wanted)) refresh();
    else if ((summary.item_types || []).some((t) => t === "log" || t === "trace_metric")) refreshTelemetry();
  });
  ctx.onCleanup(refreshTelemetry.cancel);
  ctx.onCleanup(refresh.cancel);
  ctx.onReconnect(refresh);
}

/**
 * The verifier's verdict for the trace (the same code as `make verify-traces`).
 * @param {TraceVerdict | null | undefined} verdict
 */
function verdictBadge(verdict) {
  /** @type {Record<TraceVerdict, string>} */
  const titles = {
    verified: "every hop checked on data that arrived",
    unverified: "data is missing; a counted cause (SDK drops, backpressure, a refusal) may account for it",
    failed: "a check failed, or data is missing that nothing accounts for",
  };
  /** @type {Record<TraceVerdict, string>} */
  const classes = { verified: "badge ok", unverified: "badge warn", failed: "badge bad" };
  return h("span", { class: verdict ? classes[verdict] : "badge", title: verdict ? titles[verdict] : "" }, verdict || "not verified");
}

/**
 * The other half of a trace split where a callee did not read the caller's context format.
 * @param {string | null | undefined} traceId
 */
function otherTraceLink(traceId) {
  if (!traceId) return null;
  return h("span", {}, " ", h("a", { class: "other-trace", href: route("traces", traceId) }, "other trace ", h("code", {}, traceId)));
}

/**
 * @param {Trace} trace
 * @param {TraceViewState} state
 */
function renderTrace(trace, state) {
  const services = trace.services || [];
  const dscs = trace.dsc || [];
  const broken = trace.broken_links || [];
  const out = [];

  out.push(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Trace ", h("code", {}, trace.trace_id)),
      h("span", { class: "spacer" }),
      h("a", { class: "btn", href: routeWithQuery("#/envelopes", { trace_id: trace.trace_id }) }, "Envelopes of this trace"),
    ),
    h(
      "div",
      { class: "trace-summary" },
      h(
        "span",
        { class: "legend" },
        services.map((name) => {
          // Which SDK each service runs: a hop between sentry-python 2 and 3 shows here.
          const sdks = (trace.sdks || {})[name] || [];
          return h("span", { class: "service-sdk" }, serviceChip(name), sdks.length ? h("code", { class: "muted", title: "the SDK its envelopes named" }, ` ${sdks.join(", ")}`) : null);
        }),
      ),
      stat("duration", duration(trace.duration_ms)),
      stat("started", timeEl(trace.start)),
      stat("transactions", count(trace.transactions)),
      stat("errors", count(trace.error_count ?? (trace.errors || []).length)),
      verdictBadge(trace.verification?.verdict),
      dscs.length > 1
        ? h("span", { class: "badge bad", title: "the envelopes carry different dynamic sampling contexts" }, `DSC mismatch (${dscs.length})`)
        : h("span", { class: "badge ok" }, "DSC consistent"),
    ),
  );

  const verification = trace.verification || {};
  const findings = verification.findings ?? [];
  const causes = verification.causes ?? [];
  if (findings.length) {
    out.push(
      h(
        "section",
        { class: ["panel", "verification-panel"] },
        h("h2", {}, `Verifier: ${verification.verdict}`, causes.length ? ` (may be explained by ${causes.join(", ")})` : ""),
        h(
          "ul",
          { class: "findings-list" },
          findings.map((f) =>
            h(
              "li",
              {},
              h("span", { class: f.note ? "badge" : f.attributed_to ? "badge warn" : "badge bad" }, `${f.check} / ${f.kind}`),
              " ",
              f.message,
              f.attributed_to ? h("span", { class: "muted" }, ` (counted cause: ${f.attributed_to})`) : null,
              otherTraceLink(f.other_trace_id),
            ),
          ),
        ),
      ),
    );
  }

  if (broken.length) {
    out.push(
      h(
        "section",
        { class: ["panel", "broken-panel"] },
        h("h2", {}, `Broken links (${broken.length})`),
        h(
          "ul",
          { class: "broken-list" },
          broken.map((b) =>
            h(
              "li",
              {},
              h("span", { class: "broken-reason" }, "⚠ ", b.reason ?? "broken link"),
              " ",
              serviceChip(b.service),
              h("span", { class: "muted" }, ` ${b.kind} `),
              b.description ?? "",
              " ",
              b.envelope_id ? h("a", { href: route("envelopes", b.envelope_id) }, "envelope") : null,
              otherTraceLink(b.other_trace_id),
            ),
          ),
        ),
      ),
    );
  }

  out.push(waterfall(trace, state));

  const errors = trace.errors || [];
  if (errors.length) {
    out.push(
      section(
        `Errors (${errors.length})`,
        h(
          "table",
          { class: "grid" },
          h("tbody", {}, errors.map((e) => errorRow(e))),
        ),
      ),
    );
  }

  out.push(dscSection(dscs));
  return out;
}

/**
 * @param {string} label
 * @param {import("./dom.js").Child} value
 */
function stat(label, value) {
  return h("span", { class: "stat" }, h("span", { class: "stat-label" }, label), value);
}

/** @param {TraceError} e */
function errorRow(e) {
  return h(
    "tr",
    {},
    h("td", {}, serviceChip(e.service)),
    h("td", {}, levelBadge(e.level)),
    h("td", { class: "wrap-text" }, h("a", { href: route("errors", e.event_id ?? "") }, h("strong", {}, e.type ?? "message"), " ", e.value ?? "")),
    h("td", { class: "muted wrap-text" }, e.transaction ?? ""),
    h("td", { class: "nowrap" }, timeEl(e.timestamp)),
  );
}

// ---------------------------------------------------------------- the waterfall

/**
 * @param {Trace} trace
 * @param {TraceViewState} state
 */
function waterfall(trace, state) {
  const total = trace.duration_ms || 0;
  const rows = h("div", { class: "wf-rows" });
  for (const root of trace.roots || []) rows.append(nodeEl(root, 0, trace, total, state));

  const ticks = h("div", { class: "wf-ticks" });
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    ticks.append(
      h("span", { class: "wf-tick", style: { left: `${fraction * 100}%` } }, h("span", {}, fraction ? duration(total * fraction) : "0")),
    );
  }
  if (!(trace.roots || []).length) return section("Waterfall", empty("No transactions in this trace (errors only)."));
  return h(
    "section",
    { class: ["panel", "waterfall"] },
    h("div", { class: "wf-axis" }, h("div", { class: "wf-label-head" }, "operation"), ticks),
    rows,
  );
}

/**
 * @param {TraceNode} node
 * @param {number} depth
 * @param {Trace} trace
 * @param {number} total the trace's duration in ms
 * @param {TraceViewState} state
 * @returns {HTMLElement}
 */
function nodeEl(node, depth, trace, total, state) {
  const children = node.children || [];
  const key = `${node.envelope_id}:${node.span_id}`;
  const childBox = h("div", { class: "wf-children", hidden: state.collapsed.has(key) });
  for (const child of children) childBox.append(nodeEl(child, depth + 1, trace, total, state));

  const caret = children.length
    ? h(
        "button",
        {
          type: "button",
          class: "caret",
          title: "collapse / expand",
          on: {
            click: (event) => {
              event.stopPropagation();
              childBox.hidden = !childBox.hidden;
              caret.textContent = childBox.hidden ? "▸" : "▾";
              if (childBox.hidden) state.collapsed.add(key);
              else state.collapsed.delete(key);
            },
          },
        },
        childBox.hidden ? "▸" : "▾",
      )
    : h("span", { class: "caret-space" });

  const problem = node.broken || node.missing_child;
  const isTx = node.kind === "transaction";
  const statusBad = node.status && node.status !== "ok";
  const label = h(
    "div",
    { class: "wf-label", style: { paddingLeft: `${6 + depth * 16}px` } },
    caret,
    isTx ? h("span", { class: "svc-dot", title: node.service }) : null,
    isTx ? h("span", { class: "wf-service" }, node.service) : null,
    node.op ? h("span", { class: "wf-op" }, node.op) : null,
    h("span", { class: "wf-desc" }, node.description ?? ""),
    otlpBadge(node),
    statusBad ? h("span", { class: "badge bad small" }, node.status) : null,
    node.errors?.length
      ? h("a", { class: "err-chip", href: route("errors", node.errors[0].event_id ?? ""), title: errorsTitle(node.errors) }, `● ${node.errors.length} error${node.errors.length > 1 ? "s" : ""}`)
      : null,
  );

  const track = h("div", { class: "wf-track" });
  if (node.offset_ms !== null && node.offset_ms !== undefined && total > 0) {
    const left = clamp((node.offset_ms / total) * 100);
    const width = Math.max(clamp(((node.duration_ms || 0) / total) * 100), 0.15);
    track.append(h("div", { class: "wf-bar", style: { left: `${left}%`, width: `${Math.min(width, 100 - left)}%` } }));
    // The duration goes beside its bar where there is room, else inside it.
    const durLabel = h("span", { class: "wf-dur" }, duration(node.duration_ms));
    if (left + width < 85) durLabel.style.left = `calc(${left + width}% + 6px)`;
    else if (left > 15) durLabel.style.right = `calc(${100 - left}% + 6px)`;
    else {
      durLabel.classList.add("inside");
      durLabel.style.right = `calc(${100 - left - width}% + 6px)`;
    }
    track.append(durLabel);
    for (const err of node.errors || []) {
      if (typeof err.timestamp !== "number" || typeof trace.start !== "number") continue;
      const at = clamp((((err.timestamp - trace.start) * 1000) / total) * 100);
      track.append(h("a", { class: "err-marker", href: route("errors", err.event_id ?? ""), title: errorsTitle([err]), style: { left: `${at}%` } }));
    }
  } else if (total <= 0 && node.offset_ms !== null && node.offset_ms !== undefined) {
    track.append(h("div", { class: "wf-bar", style: { left: "0%", width: "100%" } }));
  }

  const details = h("div", { class: "wf-details", hidden: true });
  const row = h(
    "div",
    {
      class: ["wf-row", `kind-${node.kind}`, problem ? "broken" : "", node.errors?.length ? "has-errors" : ""],
      style: { "--svc": serviceColor(node.service) },
      dataset: { service: node.service, kind: node.kind, spanId: node.span_id ?? "" },
      title: isTx ? "open this transaction's envelope" : "show span details",
      on: {
        click: (event) => {
          if (event.target instanceof Element && event.target.closest("a")) return;
          if (isTx) location.hash = route("envelopes", node.envelope_id);
          else toggleDetails(details, node);
        },
      },
    },
    label,
    track,
  );

  const notes = [];
  if (problem) notes.push(h("div", { class: "wf-broken-reason" }, "⚠ broken link: ", problem));
  if (node.external_parent) {
    notes.push(h("div", { class: "wf-note" }, "continues a trace begun upstream: parent span ", h("code", {}, node.parent_span_id ?? "?"), " was not sent here"));
  }
  // The logs and metrics this span emitted, right under it.
  const emitted = node.span_id ? state.telemetry?.get(node.span_id) || [] : [];
  const telemetry = emitted.length
    ? h("div", { class: "wf-telemetry", style: { paddingLeft: `${28 + depth * 16}px` } }, emitted.map((r) => recordLine(r)))
    : null;
  return h("div", { class: ["wf-node", problem ? "broken" : ""] }, row, notes.length ? h("div", { class: "wf-notes", style: { paddingLeft: `${22 + depth * 16}px` } }, notes) : null, telemetry, details, childBox);
}

/**
 * @param {HTMLElement} details
 * @param {TraceNode} node
 */
function toggleDetails(details, node) {
  if (!details.hidden) {
    details.hidden = true;
    return;
  }
  clear(details).append(
    kvTable(
      [
        ["service", node.service],
        ["op", node.op],
        ["description", node.description],
        ["span id", node.span_id],
        ["parent span id", node.parent_span_id],
        ["status", node.status],
        ["offset", duration(node.offset_ms)],
        ["duration", duration(node.duration_ms)],
        ["envelope", node.envelope_id ? h("a", { href: route("envelopes", node.envelope_id) }, node.envelope_id) : null],
        ["ingest", node.ingest === "otlp" ? "OTLP/HTTP" : null],
        ...Object.entries(node.resource || {}).map(([key, value]) => /** @type {[string, string]} */ ([`resource ${key}`, String(value)])),
      ],
      { skipEmpty: true },
    ),
  );
  details.hidden = false;
}

/**
 * An OTLP span's badge: "OTLP" and the service its resource names, the whole resource on hover.
 * @param {TraceNode} node
 */
function otlpBadge(node) {
  if (node.ingest !== "otlp") return null;
  const resource = node.resource || {};
  const service = resource["service.name"];
  const title = ["arrived over OTLP/HTTP", ...Object.entries(resource).map(([key, value]) => `${key}: ${value}`)].join("\n");
  return h("span", { class: "badge otlp small", title, dataset: { ingest: "otlp" } }, service ? `OTLP · ${service}` : "OTLP");
}

/**
 * Every log and metric of the trace; those of no span shown in the waterfall are marked.
 * @param {TelemetryRecord[]} records
 * @param {Trace} trace
 */
function telemetrySection(records, trace) {
  /** @type {Set<string>} */
  const shown = new Set();
  /** @param {TraceNode} node */
  const walk = (node) => {
    if (node.span_id) shown.add(node.span_id);
    (node.children || []).forEach(walk);
  };
  (trace.roots || []).forEach(walk);
  const lines = records.map((r) => {
    const line = recordLine(r);
    if (!r.span_id || !shown.has(r.span_id)) {
      line.classList.add("unplaced");
      line.append(h("span", { class: "badge warn small", title: "its span is not in this trace's waterfall" }, r.span_id ? "span not in trace" : "no span id"));
    }
    return line;
  });
  return section(`Logs and metrics (${records.length})`, records.length ? h("div", { class: "tel-list" }, lines) : empty("No logs or metrics carry this trace id."));
}

/** @param {TraceError[]} errors */
function errorsTitle(errors) {
  return errors.map((e) => `${e.type ?? "message"}: ${e.value ?? ""}`).join("\n");
}

/** @param {number} pct */
function clamp(pct) {
  return Math.min(100, Math.max(0, pct));
}

/** @param {Array<{ [key: string]: unknown }>} dscs */
function dscSection(dscs) {
  if (!dscs.length) return section("Dynamic sampling context", empty("No envelope of this trace carried a DSC."));
  const keys = [...new Set(dscs.flatMap((d) => Object.keys(d)))];
  const mismatch = dscs.length > 1;
  /** @param {string} key */
  const differs = (key) => new Set(dscs.map((d) => JSON.stringify(d[key] ?? null))).size > 1;
  return h(
    "section",
    { class: ["panel", mismatch ? "dsc-mismatch" : ""] },
    h("h2", {}, mismatch ? `DSC mismatch: ${dscs.length} different dynamic sampling contexts` : "Dynamic sampling context"),
    mismatch ? h("p", { class: "warn-text" }, "Every envelope of one trace should carry the same DSC; highlighted keys differ.") : null,
    h(
      "table",
      { class: "grid dsc-table" },
      h("thead", {}, h("tr", {}, keys.map((k) => h("th", { class: differs(k) ? "differs" : "" }, k)))),
      h("tbody", {}, dscs.map((d) => h("tr", {}, keys.map((k) => h("td", { class: differs(k) ? "differs" : "" }, plain(d[k])))))),
    ),
  );
}
