// @ts-check
// relay-mock's inspector: a hash-routed single page over the /inspect API.

import { envelopeDetail, envelopeList } from "./envelopes.js";
import { errorDetail, errorList } from "./errors.js";
import { faultsView } from "./faults.js";
import { forwardingView } from "./forwarding.js";
import { clear, h } from "./dom.js";
import { api, errorBox, isAbort } from "./api.js";
import { count, refreshAges } from "./format.js";
import { live } from "./live.js";
import { logList } from "./logs.js";
import { metricsView } from "./metrics.js";
import { leaksView } from "./relay.js";
import { statsView } from "./stats.js";
import { traceDetail, traceList } from "./traces.js";

/**
 * A view draws itself into `page`; the route's captured segments follow, decoded.
 * @typedef {(page: HTMLElement, ctx: import("./router.js").ViewContext, ...args: string[]) => Promise<void> | void} View
 */

/** @type {Array<{ pattern: RegExp, nav: string, view: View }>} */
const ROUTES = [
  { pattern: /^envelopes$/, nav: "envelopes", view: envelopeList },
  { pattern: /^envelopes\/([^/]+)$/, nav: "envelopes", view: envelopeDetail },
  { pattern: /^traces$/, nav: "traces", view: traceList },
  { pattern: /^traces\/([^/]+)$/, nav: "traces", view: traceDetail },
  { pattern: /^errors$/, nav: "errors", view: errorList },
  { pattern: /^errors\/([^/]+)$/, nav: "errors", view: errorDetail },
  { pattern: /^logs$/, nav: "logs", view: logList },
  { pattern: /^metrics$/, nav: "metrics", view: metricsView },
  { pattern: /^stats$/, nav: "stats", view: statsView },
  { pattern: /^faults$/, nav: "faults", view: faultsView },
  { pattern: /^leaks$/, nav: "leaks", view: leaksView },
  { pattern: /^forwarding$/, nav: "forwarding", view: forwardingView },
];

const NAV = [
  ["envelopes", "Envelopes"],
  ["traces", "Traces"],
  ["errors", "Errors"],
  ["logs", "Logs"],
  ["metrics", "Metrics"],
  ["stats", "Stats"],
  ["faults", "Faults"],
  ["leaks", "Leaks"],
  ["forwarding", "Forwarding"],
];

/**
 * An element index.html must have: without it there is nothing to draw into.
 * @param {string} id
 */
function required(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html has no #${id}`);
  return el;
}

const main = required("main");
const header = required("header");
/** @type {{ cleanup: (() => void) | null, controller: AbortController | null }} */
let current = { cleanup: null, controller: null };

// ---------------------------------------------------------------- header

const storedCount = h("span", { class: "stored-count", title: "envelopes stored" }, "…");
const liveDot = h("span", { class: "live-dot" });
const liveLabel = h("span", { class: "live-label" }, "connecting");
const liveIndicator = h("span", { class: "live", dataset: { state: "connecting" } }, liveDot, liveLabel);
const navLinks = Object.fromEntries(NAV.map(([key, label]) => [key, h("a", { href: `#/${key}`, class: "nav-link" }, label)]));
const clearArea = h("span", { class: "clear-area" });

function renderClearButton() {
  clear(clearArea).append(
    h("button", { type: "button", class: "btn danger-outline", on: { click: askClear } }, "Clear all"),
  );
}

function askClear() {
  clear(clearArea).append(
    h("span", { class: "confirm-text" }, `Delete all ${storedCount.textContent} stored envelopes?`),
    h("button", { type: "button", class: "btn danger", on: { click: doClear } }, "Delete"),
    h("button", { type: "button", class: "btn", on: { click: renderClearButton } }, "Cancel"),
  );
}

async function doClear() {
  try {
    await api("/inspect/envelopes", { method: "DELETE" });
    renderClearButton();
    await refreshCount();
    navigate();
  } catch (err) {
    clear(clearArea).append(errorBox(err), h("button", { type: "button", class: "btn", on: { click: renderClearButton } }, "OK"));
  }
}

async function refreshCount() {
  try {
    const ready = /** @type {import("./types").Readiness} */ (await api("/api/relay/healthcheck/ready/"));
    storedCount.textContent = count(ready.envelopes);
    storedCount.title = `${count(ready.envelopes)} envelopes stored`;
  } catch {
    storedCount.textContent = "?";
  }
}

header.append(
  h(
    "div",
    { class: "header-inner" },
    h("a", { href: "#/envelopes", class: "brand" }, h("span", { class: "brand-mark" }, "◆"), "relay-mock"),
    h("nav", {}, NAV.map(([key]) => navLinks[key])),
    h("span", { class: "spacer" }),
    // The inspection API's own page (server-rendered from /inspect/openapi.json), not a view here.
    h("a", { href: "/inspect/docs", class: "nav-link", title: "The inspection API: every operation and its schema" }, "API"),
    liveIndicator,
    h("span", { class: "stored" }, storedCount, h("span", { class: "muted" }, " stored")),
    clearArea,
  ),
);
renderClearButton();

live.onState((state) => {
  liveIndicator.dataset.state = state;
  liveLabel.textContent = { connected: "live", reconnecting: "reconnecting…", connecting: "connecting…" }[state];
  liveIndicator.title = state === "connected" ? "receiving envelopes as they arrive" : "the live stream is down; retrying";
  if (state === "connected") refreshCount();
});

/** @type {ReturnType<typeof setTimeout> | null} */
let countTimer = null;
live.subscribe(() => {
  // Counting locally would drift under retention eviction; ask, at most once a second.
  if (countTimer) return;
  countTimer = setTimeout(() => {
    countTimer = null;
    refreshCount();
  }, 1000);
});

// ---------------------------------------------------------------- routing

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query = ""] = raw.split("?", 2);
  return { path: path || "envelopes", params: new URLSearchParams(query) };
}

function navigate() {
  const { path, params } = parseHash();
  if (current.cleanup) current.cleanup();
  if (current.controller) current.controller.abort();
  const controller = new AbortController();
  current = { cleanup: null, controller };
  clear(main);
  for (const el of Object.values(navLinks)) el.classList.remove("active");

  const match = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m !== null);
  if (!match || !match.m) {
    main.append(h("div", { class: "page" }, h("h1", {}, "Not found"), h("p", {}, `No view for #/${path}.`)));
    return;
  }
  navLinks[match.r.nav].classList.add("active");
  const args = match.m.slice(1).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  /** @type {Array<() => void>} */
  const cleanups = [];
  let closed = false;
  /** @type {import("./router.js").ViewContext} */
  const ctx = {
    params,
    signal: controller.signal,
    // A view's live subscriptions end when the view does, also those it makes after leaving.
    onLive(fn) {
      if (closed) return () => {};
      const off = live.subscribe(fn);
      cleanups.push(off);
      return off;
    },
    onReconnect(fn) {
      if (!closed) cleanups.push(live.onReconnect(fn));
    },
    onCleanup(fn) {
      if (closed) fn();
      else cleanups.push(fn);
    },
  };
  current.cleanup = () => {
    closed = true;
    cleanups.forEach((fn) => fn());
  };
  const page = h("div", { class: "page" });
  main.append(page);
  Promise.resolve(match.r.view(page, ctx, ...args)).catch((err) => {
    if (isAbort(err)) return;
    page.append(errorBox(err));
  });
  window.scrollTo(0, 0);
}

window.addEventListener("hashchange", navigate);
setInterval(() => refreshAges(main), 10000);
setInterval(refreshCount, 15000);
refreshCount();
live.start();
navigate();
