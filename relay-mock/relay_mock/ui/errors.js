// Errors: a searchable list, and one error with its stack trace, breadcrumbs and context.

import {
  api,
  append,
  clear,
  empty,
  errorBox,
  h,
  jsonView,
  kvTable,
  levelBadge,
  link,
  loading,
  localTime,
  plain,
  route,
  routeWithQuery,
  section,
  serviceChip,
  timeEl,
  toDate,
} from "./lib.js";
import { debounce } from "./live.js";

const LEVELS = ["", "fatal", "error", "warning", "info", "debug"];

// ---------------------------------------------------------------- list

export async function errorList(page, ctx) {
  const filters = { q: ctx.params.get("q") || "", project: ctx.params.get("project") || "", level: ctx.params.get("level") || "" };
  const tbody = h("tbody", {});
  const status = h("div", { class: "list-status" });
  const moreButton = h("button", { type: "button", class: "btn", hidden: true }, "Load more");
  let cursor = null;
  let pages = 0;

  page.append(
    h("div", { class: "page-head" }, h("h1", {}, "Errors")),
    searchForm(filters),
    h(
      "table",
      { class: "grid errors" },
      h("thead", {}, h("tr", {}, ["received", "level", "error", "project", "transaction", "release / env"].map((c) => h("th", {}, c)))),
      tbody,
    ),
    status,
    h("div", { class: "more" }, moreButton),
  );

  async function load({ reset }) {
    const query = new URLSearchParams({ limit: "50" });
    for (const [key, value] of Object.entries(filters)) if (value) query.set(key, value);
    if (!reset && cursor !== null) query.set("cursor", String(cursor));
    try {
      const data = await api(`/inspect/errors?${query}`, { signal: ctx.signal });
      if (reset) {
        clear(tbody);
        pages = 0;
      }
      clear(status);
      pages += 1;
      tbody.append(...data.errors.map(errorRow));
      cursor = data.next_cursor ?? null;
      moreButton.hidden = cursor === null;
      if (!tbody.rows.length) status.append(empty(filters.q || filters.project || filters.level ? "No error matches." : "No errors yet."));
    } catch (err) {
      if (err.name === "AbortError") return;
      clear(status).append(errorBox(err));
    }
  }

  moreButton.addEventListener("click", () => load({ reset: false }));
  const refresh = debounce(() => pages <= 1 && load({ reset: true }), 1000);
  ctx.onLive((summary) => {
    if ((summary.item_types || []).includes("event")) refresh();
  });
  ctx.onCleanup(refresh.cancel);
  ctx.onReconnect(refresh);
  await load({ reset: true });
}

function searchForm(filters) {
  const q = h("input", { type: "search", name: "q", value: filters.q, placeholder: "search type, message, transaction…", spellcheck: false });
  const project = h("input", { type: "search", name: "project", value: filters.project, placeholder: "project" });
  const level = h("select", { name: "level" }, LEVELS.map((l) => h("option", { value: l, selected: l === filters.level }, l || "any level")));
  const form = h(
    "form",
    { class: "filters", autocomplete: "off" },
    h("label", { class: ["filter", "wide", filters.q ? "set" : ""] }, h("span", {}, "search"), q),
    h("label", { class: ["filter", filters.project ? "set" : ""] }, h("span", {}, "project"), project),
    h("label", { class: ["filter", filters.level ? "set" : ""] }, h("span", {}, "level"), level),
    h("button", { type: "submit", class: "btn" }, "Search"),
    filters.q || filters.project || filters.level ? link("#/errors", "reset") : null,
  );
  const apply = () => {
    location.hash = routeWithQuery("#/errors", { q: q.value.trim(), project: project.value.trim(), level: level.value });
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  level.addEventListener("change", apply);
  return form;
}

function errorRow(e) {
  const href = route("errors", e.event_id);
  return h(
    "tr",
    {
      class: "clickable",
      dataset: { eventId: e.event_id },
      on: {
        click: (event) => {
          if (!event.target.closest("a")) location.hash = href;
        },
      },
    },
    h("td", { class: "nowrap" }, h("a", { href, class: "row-link" }, timeEl(e.received_at))),
    h("td", {}, levelBadge(e.level)),
    h("td", { class: "wrap-text" }, errorTitle(e)),
    h("td", {}, serviceChip(e.project ?? "?")),
    h("td", { class: "wrap-text" }, e.transaction ?? h("span", { class: "muted" }, "—")),
    h("td", { class: "muted nowrap" }, [e.release, e.environment].filter(Boolean).join(" · ") || "—"),
  );
}

function errorTitle(e) {
  if (e.type) return [h("strong", { class: "exc-type" }, e.type), e.value ? h("span", { class: "exc-value" }, ` ${e.value}`) : null];
  return h("span", { class: "exc-value" }, e.message ?? e.value ?? "(no message)");
}

// ---------------------------------------------------------------- one error

export async function errorDetail(page, ctx, eventId) {
  const placeholder = loading();
  page.append(placeholder);
  let e;
  try {
    e = await api(`/inspect/errors/${encodeURIComponent(eventId)}`, { signal: ctx.signal });
  } finally {
    placeholder.remove();
  }

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
            ["user", e.event?.user && typeof e.event.user === "object" ? plain(e.event.user) : null],
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
            ["sdk", e.sdk && typeof e.sdk === "object" ? `${e.sdk.name ?? "?"} ${e.sdk.version ?? ""}` : null],
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

function exceptionsSection(exceptions) {
  // Sentry lists chained exceptions cause first, the one that propagated last, like Python does.
  const blocks = [];
  exceptions.forEach((exc, index) => {
    if (index > 0) blocks.push(h("div", { class: "chain-note" }, "The above exception led to the following exception:"));
    blocks.push(exceptionBlock(exc || {}, index === exceptions.length - 1));
  });
  return h(
    "section",
    { class: "panel" },
    h("h2", {}, "Stack trace ", h("span", { class: "muted" }, "most recent call last")),
    blocks,
  );
}

function exceptionBlock(exc, isLast) {
  const mechanism = exc.mechanism && typeof exc.mechanism === "object" ? exc.mechanism : null;
  const frames = Array.isArray(exc.stacktrace?.frames) ? exc.stacktrace.frames : [];
  const anyInApp = frames.some((f) => f && f.in_app);
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
          frames.map((f, i) => frameEl(f || {}, anyInApp ? Boolean(f && f.in_app) : true, i === frames.length - 1)),
        )
      : empty("no stack trace"),
  );
}

function frameEl(frame, emphasise, isLastFrame) {
  const where = frame.filename ?? frame.abs_path ?? frame.module ?? "?";
  const hasContext = frame.context_line !== undefined && frame.context_line !== null;
  const vars = frame.vars && typeof frame.vars === "object" ? Object.entries(frame.vars) : [];
  const summary = h(
    "summary",
    { class: "frame-line" },
    h("span", { class: "frame-file" }, where),
    frame.lineno !== undefined && frame.lineno !== null ? h("span", { class: "frame-lineno" }, `:${frame.lineno}`) : null,
    h("span", { class: "muted" }, " in "),
    h("span", { class: "frame-fn" }, frame.function ?? "?"),
    frame.in_app ? h("span", { class: "badge in-app" }, "in app") : null,
  );
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

function contextBlock(frame) {
  const pre = Array.isArray(frame.pre_context) ? frame.pre_context : [];
  const post = Array.isArray(frame.post_context) ? frame.post_context : [];
  const lineno = typeof frame.lineno === "number" ? frame.lineno : null;
  const lines = [
    ...pre.map((text, i) => [lineno !== null ? lineno - pre.length + i : "", text, false]),
    [lineno ?? "", frame.context_line, true],
    ...post.map((text, i) => [lineno !== null ? lineno + 1 + i : "", text, false]),
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
          const crumb = c && typeof c === "object" ? c : { message: String(c) };
          const date = toDate(crumb.timestamp);
          return h(
            "tr",
            { class: `crumb-${String(crumb.level ?? "info").replace(/[^a-z]/gi, "")}` },
            h("td", { class: "nowrap muted" }, date ? localTime(date) : "—"),
            h("td", { class: "nowrap" }, crumb.category ?? crumb.type ?? "—"),
            h("td", {}, levelBadge(crumb.level)),
            h("td", { class: "wrap-text" }, crumb.message ?? ""),
            h("td", { class: "wrap-text" }, crumb.data && Object.keys(crumb.data).length ? plain(crumb.data) : ""),
          );
        }),
      ),
    ),
  );
}

function tagsTable(tags) {
  let pairs = [];
  if (Array.isArray(tags)) pairs = tags.filter((p) => Array.isArray(p) && p.length === 2);
  else if (tags && typeof tags === "object") pairs = Object.entries(tags);
  if (!pairs.length) return empty("no tags");
  return h(
    "div",
    { class: "tags" },
    pairs.map(([k, v]) => h("span", { class: "tag" }, h("span", { class: "tag-key" }, String(k)), h("span", { class: "tag-value" }, typeof v === "string" ? v : JSON.stringify(v)))),
  );
}

function requestSection(request) {
  const headers = request.headers;
  const headerPairs = Array.isArray(headers) ? headers : headers && typeof headers === "object" ? Object.entries(headers) : [];
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
          value && typeof value === "object" && !Array.isArray(value) ? kvTable(Object.entries(value).map(([k, v]) => [k, plain(v)])) : plain(value),
        ),
      ),
    ),
  );
}
