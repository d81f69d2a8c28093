// @ts-check
// Errors: a searchable list, and one error with its stack trace, breadcrumbs and context.

import { append, empty, h, kvTable, plain, section, whileLoading } from "./dom.js";
import { route } from "./router.js";
import { api } from "./api.js";
import { isObject, jsonView, levelBadge, localTime, serviceChip, timeEl, toDate } from "./format.js";
import { clickableRow, pagedTable } from "./lists.js";

/**
 * @typedef {import("./router.js").ViewContext} ViewContext
 * @typedef {import("./types").ErrorSummary} ErrorSummary
 * @typedef {import("./types").ErrorDetail} ErrorDetail
 * @typedef {import("./types").SentryException} SentryException
 * @typedef {import("./types").SentryFrame} SentryFrame
 * @typedef {import("./types").SentryBreadcrumb} SentryBreadcrumb
 */

const LEVELS = ["", "fatal", "error", "warning", "info", "debug"];

// ---------------------------------------------------------------- list

/** @type {import("./lists.js").FilterField[]} */
const FIELDS = [
  { name: "q", label: "search", wide: true, placeholder: "search type, message, transaction…", props: { spellcheck: false } },
  { name: "project", label: "project", placeholder: "project" },
  { name: "level", label: "level", choices: LEVELS, any: "any level" },
];

/**
 * @param {HTMLElement} page
 * @param {ViewContext} ctx
 */
export async function errorList(page, ctx) {
  await pagedTable(page, ctx, {
    title: "Errors",
    route: "#/errors",
    fields: FIELDS,
    endpoint: "/inspect/errors",
    limit: 50,
    tableClass: "errors",
    columns: ["received", "level", "error", "project", "transaction", "release / env"],
    rows: (/** @type {import("./types").ErrorPage} */ data) => data.errors,
    row: errorRow,
    empty: "No errors yet.",
    noMatch: "No error matches.",
    liveWhen: (summary) => (summary.item_types || []).includes("event"),
  });
}

/** @param {ErrorSummary} e */
function errorRow(e) {
  const href = route("errors", e.event_id ?? "");
  return clickableRow(
    href,
    { dataset: { eventId: e.event_id ?? "" } },
    h("td", { class: "nowrap" }, h("a", { href, class: "row-link" }, timeEl(e.received_at))),
    h("td", {}, levelBadge(e.level)),
    h("td", { class: "wrap-text" }, errorTitle(e)),
    h("td", {}, serviceChip(e.project ?? "?")),
    h("td", { class: "wrap-text" }, e.transaction ?? h("span", { class: "muted" }, "—")),
    h("td", { class: "muted nowrap" }, [e.release, e.environment].filter(Boolean).join(" · ") || "—"),
  );
}

/** @param {ErrorSummary} e */
function errorTitle(e) {
  if (e.type) return [h("strong", { class: "exc-type" }, e.type), e.value ? h("span", { class: "exc-value" }, ` ${e.value}`) : null];
  return h("span", { class: "exc-value" }, e.message ?? e.value ?? "(no message)");
}

// ---------------------------------------------------------------- one error

/**
 * @param {HTMLElement} page
 * @param {ViewContext} ctx
 * @param {string} eventId
 */
export async function errorDetail(page, ctx, eventId) {
  const request = /** @type {Promise<ErrorDetail>} */ (api(`/inspect/errors/${encodeURIComponent(eventId)}`, { signal: ctx.signal }));
  const e = await whileLoading(page, request);

  append(page, [
    h(
      "div",
      { class: "page-head error-head" },
      levelBadge(e.level),
      h("h1", {}, errorTitle(e)),
      h("span", { class: "spacer" }),
      e.trace_id ? h("a", { class: "btn", href: route("traces", e.trace_id) }, "Trace view") : null,
      e.envelope_id ? h("a", { class: "btn", href: route("envelopes", e.envelope_id) }, "Envelope") : null,
      e.envelope_id ? h("a", { class: "btn", href: `${route("envelopes", e.envelope_id)}?relay=event` }, "What Sentry stores") : null,
    ),
    e.type && e.message ? h("p", { class: "message" }, e.message) : null,
    h(
      "div",
      { class: "columns" },
      section(
        "Event",
        kvTable(
          [
            ["event id", h("code", {}, e.event_id)],
            ["project", serviceChip(e.project ?? "?")],
            ["received", timeEl(e.received_at)],
            ["timestamp", e.timestamp ? timeEl(e.timestamp, { withAge: false }) : null],
            ["transaction", e.transaction],
            ["trace", e.trace_id ? h("a", { href: route("traces", e.trace_id) }, h("code", {}, e.trace_id)) : null],
            ["span", e.span_id ? h("code", {}, e.span_id) : null],
            ["user", isObject(e.event?.user) ? plain(e.event.user) : null],
          ],
          { skipEmpty: true },
        ),
      ),
      section(
        "Source",
        kvTable(
          [
            ["release", e.release],
            ["environment", e.environment],
            ["server", e.server_name],
            ["sdk", isObject(e.sdk) ? `${e.sdk.name ?? "?"} ${e.sdk.version ?? ""}` : null],
          ],
          { skipEmpty: true },
        ),
      ),
    ),
  ]);

  const exceptions = Array.isArray(e.exceptions) ? e.exceptions : [];
  if (exceptions.length) page.append(exceptionsSection(exceptions));
  page.append(breadcrumbsSection(Array.isArray(e.breadcrumbs) ? e.breadcrumbs : []));
  page.append(section("Tags", tagsTable(e.tags)));
  if (e.request) page.append(requestSection(e.request));
  if (e.contexts && Object.keys(e.contexts).length) page.append(contextsSection(e.contexts));
  if (e.event) page.append(h("section", { class: "panel" }, h("details", {}, h("summary", {}, "Raw event JSON"), jsonView(e.event))));
}

// ---------------------------------------------------------------- stack traces

/** @param {unknown[]} exceptions */
function exceptionsSection(exceptions) {
  // Sentry lists chained exceptions cause first, the one that propagated last, like Python does.
  /** @type {HTMLElement[]} */
  const blocks = [];
  exceptions.forEach((exc, index) => {
    if (index > 0) blocks.push(h("div", { class: "chain-note" }, "The above exception led to the following exception:"));
    blocks.push(exceptionBlock(isObject(exc) ? exc : {}, index === exceptions.length - 1));
  });
  return h(
    "section",
    { class: "panel" },
    h("h2", {}, "Stack trace ", h("span", { class: "muted" }, "most recent call last")),
    blocks,
  );
}

/**
 * @param {SentryException} exc
 * @param {boolean} isLast
 */
function exceptionBlock(exc, isLast) {
  const mechanism = isObject(exc.mechanism) ? exc.mechanism : null;
  const rawFrames = exc.stacktrace?.frames;
  /** @type {SentryFrame[]} */
  const frames = Array.isArray(rawFrames) ? rawFrames.map((f) => (isObject(f) ? f : {})) : [];
  const anyInApp = frames.some((f) => f.in_app);
  return h(
    "div",
    { class: ["exception", isLast ? "last" : ""] },
    h(
      "div",
      { class: "exc-title" },
      h(
        "span",
        {},
        h("strong", { class: "exc-type" }, exc.type ?? "Exception"),
        exc.value !== undefined && exc.value !== null ? h("span", { class: "exc-value" }, `: ${exc.value}`) : null,
      ),
      mechanism
        ? h("span", { class: ["badge", mechanism.handled === false ? "bad" : "muted-badge"] }, `${mechanism.type ?? "mechanism"}${mechanism.handled === false ? " · unhandled" : mechanism.handled ? " · handled" : ""}`)
        : null,
      exc.module ? h("span", { class: "muted" }, ` in ${exc.module}`) : null,
    ),
    frames.length
      ? h(
          "div",
          { class: "frames" },
          frames.map((f, i) => frameEl(f, anyInApp ? Boolean(f.in_app) : true, i === frames.length - 1)),
        )
      : empty("no stack trace"),
  );
}

/**
 * @param {SentryFrame} frame
 * @param {boolean} emphasise
 * @param {boolean} isLastFrame
 */
function frameEl(frame, emphasise, isLastFrame) {
  const where = frame.filename ?? frame.abs_path ?? frame.module ?? "?";
  const hasContext = frame.context_line !== undefined && frame.context_line !== null;
  const vars = isObject(frame.vars) ? Object.entries(frame.vars) : [];
  const summary = h(
    "summary",
    { class: "frame-line" },
    h("span", { class: "frame-file" }, where),
    frame.lineno !== undefined && frame.lineno !== null ? h("span", { class: "frame-lineno" }, `:${String(frame.lineno)}`) : null,
    h("span", { class: "muted" }, " in "),
    h("span", { class: "frame-fn" }, frame.function ?? "?"),
    frame.in_app ? h("span", { class: "badge in-app" }, "in app") : null,
  );
  /** @type {HTMLElement[]} */
  const body = [];
  if (hasContext) body.push(contextBlock(frame));
  if (vars.length) {
    body.push(
      h("details", { class: "vars" }, h("summary", {}, `local variables (${vars.length})`), kvTable(vars.map(([k, v]) => [k, plain(v)]))),
    );
  }
  return h(
    "details",
    { class: ["frame", frame.in_app ? "in-app" : "library"], open: emphasise && (Boolean(frame.in_app) || isLastFrame) && hasContext },
    summary,
    body.length ? body : h("div", { class: "muted frame-empty" }, "no source context"),
  );
}

/** @param {SentryFrame} frame */
function contextBlock(frame) {
  /** @type {unknown[]} */
  const pre = Array.isArray(frame.pre_context) ? frame.pre_context : [];
  /** @type {unknown[]} */
  const post = Array.isArray(frame.post_context) ? frame.post_context : [];
  const lineno = typeof frame.lineno === "number" ? frame.lineno : null;
  /** @type {(n: number | string, text: unknown, current: boolean) => [number | string, unknown, boolean]} */
  const line = (n, text, current) => [n, text, current];
  const lines = [
    ...pre.map((text, i) => line(lineno !== null ? lineno - pre.length + i : "", text, false)),
    line(lineno ?? "", frame.context_line, true),
    ...post.map((text, i) => line(lineno !== null ? lineno + 1 + i : "", text, false)),
  ];
  return h(
    "pre",
    { class: "context" },
    lines.map(([n, text, current]) =>
      h("div", { class: ["ctx-line", current ? "current" : ""] }, h("span", { class: "ctx-no" }, String(n)), h("span", { class: "ctx-text" }, String(text ?? ""))),
    ),
  );
}

// ---------------------------------------------------------------- the rest

/** @param {unknown[]} crumbs */
function breadcrumbsSection(crumbs) {
  if (!crumbs.length) return section("Breadcrumbs", empty("no breadcrumbs"));
  return section(
    `Breadcrumbs (${crumbs.length})`,
    h(
      "table",
      { class: "grid breadcrumbs" },
      h("thead", {}, h("tr", {}, ["time", "category", "level", "message", "data"].map((c) => h("th", {}, c)))),
      h(
        "tbody",
        {},
        crumbs.map((c) => {
          /** @type {SentryBreadcrumb} */
          const crumb = isObject(c) ? c : { message: String(c) };
          const date = toDate(crumb.timestamp);
          return h(
            "tr",
            { class: `crumb-${String(crumb.level ?? "info").replace(/[^a-z]/gi, "")}` },
            h("td", { class: "nowrap muted" }, date ? localTime(date) : "—"),
            h("td", { class: "nowrap" }, crumb.category ?? crumb.type ?? "—"),
            h("td", {}, levelBadge(crumb.level)),
            h("td", { class: "wrap-text" }, crumb.message ?? ""),
            h("td", { class: "wrap-text" }, isObject(crumb.data) && Object.keys(crumb.data).length ? plain(crumb.data) : ""),
          );
        }),
      ),
    ),
  );
}

/** @param {unknown} tags */
function tagsTable(tags) {
  /** @type {unknown[][]} */
  let pairs = [];
  if (Array.isArray(tags)) pairs = tags.filter((p) => Array.isArray(p) && p.length === 2);
  else if (isObject(tags)) pairs = Object.entries(tags);
  if (!pairs.length) return empty("no tags");
  return h(
    "div",
    { class: "tags" },
    pairs.map(([k, v]) => h("span", { class: "tag" }, h("span", { class: "tag-key" }, String(k)), h("span", { class: "tag-value" }, typeof v === "string" ? v : JSON.stringify(v)))),
  );
}

/** @param {{ [key: string]: unknown }} request */
function requestSection(request) {
  const headers = request.headers;
  /** @type {unknown[][]} */
  const headerPairs = Array.isArray(headers) ? headers.filter((p) => Array.isArray(p)) : isObject(headers) ? Object.entries(headers) : [];
  return section(
    "Request",
    kvTable(
      [
        ["method", request.method],
        ["url", request.url],
        ["query", request.query_string],
        ["data", request.data],
        ["env", request.env],
      ],
      { skipEmpty: true },
    ),
    headerPairs.length ? h("details", {}, h("summary", {}, `headers (${headerPairs.length})`), kvTable(headerPairs.map(([k, v]) => [String(k), plain(v)]))) : null,
  );
}

/** @param {{ [key: string]: unknown }} contexts */
function contextsSection(contexts) {
  return section(
    "Contexts",
    h(
      "div",
      { class: "contexts" },
      Object.entries(contexts).map(([name, value]) =>
        h(
          "div",
          { class: "context-box" },
          h("h3", {}, name),
          isObject(value) ? kvTable(Object.entries(value).map(([k, v]) => [k, plain(v)])) : plain(value),
        ),
      ),
    ),
  );
}
