// @ts-check
// Forwarding to a real Sentry (RELAY_FORWARD): per project, what the outbox holds and how the
// upstream answered. The upstream DSN arrives with its key masked; nothing here can unmask it.

import { empty, h, kvTable, section } from "./dom.js";
import { routeWithQuery } from "./router.js";
import { api, errorBox, isAbort } from "./api.js";
import { count, serviceChip, timeEl } from "./format.js";

/**
 * @typedef {import("./types").Forwarding} Forwarding
 * @typedef {import("./types").ForwardingProject} ForwardingProject
 */

const REFRESH_MS = 2000;

/**
 * @param {HTMLElement} page
 * @param {import("./router.js").ViewContext} ctx
 */
export async function forwardingView(page, ctx) {
  const body = h("div", {});
  page.append(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Forwarding"),
      h("span", { class: "muted" }, "acknowledged envelopes sent on to a real Sentry, from a durable outbox"),
    ),
    body,
  );

  async function load() {
    try {
      const data = /** @type {Forwarding} */ (await api("/inspect/forwarding", { signal: ctx.signal }));
      body.replaceChildren(render(data));
    } catch (err) {
      if (isAbort(err)) return;
      body.replaceChildren(errorBox(err));
    }
  }
  await load();
  const timer = setInterval(load, REFRESH_MS);
  ctx.onCleanup(() => clearInterval(timer));
}

/** @param {Forwarding} data */
function render(data) {
  if (!data.projects.length) {
    return empty(
      data.enabled
        ? "Forwarding is on; nothing acknowledged yet."
        : 'Forwarding is off. Set RELAY_FORWARD to a JSON object of project name to upstream DSN, e.g. {"api": "https://<key>@o0.ingest.sentry.io/42"}.',
    );
  }
  return h(
    "div",
    {},
    h("p", { class: "muted" }, `An envelope the upstream has not taken within ${count(data.max_age_s)} s expires.`),
    data.projects.map(projectPanel),
  );
}

/** @param {ForwardingProject} p */
function projectPanel(p) {
  const name = p.project.name ?? String(p.project.id);
  /** @param {string} state */
  const listed = (state) => routeWithQuery("#/envelopes", { project: String(p.project.id ?? ""), forward: state });
  /** @param {string} state @param {number} n */
  const countLink = (state, n) => (n ? h("a", { href: listed(state) }, count(n)) : "0");
  const limits = Object.entries(p.rate_limited || {});
  return section(
    h("span", {}, serviceChip(name), " → ", h("code", {}, p.upstream)),
    kvTable(
      [
        ["acknowledged", count(p.acknowledged)],
        ["pending", countLink("pending", p.pending)],
        ["sent", countLink("sent", p.sent)],
        ["rejected", countLink("rejected", p.rejected)],
        ["expired", countLink("expired", p.expired)],
        ["of which evicted unsent", p.evicted_unsent ? count(p.evicted_unsent) : null],
        ["possibly sent twice", p.duplicates ? count(p.duplicates) : null],
        ["oldest pending", p.oldest_pending_age_s === null || p.oldest_pending_age_s === undefined ? null : `${p.oldest_pending_age_s.toFixed(1)} s`],
        [
          "upstream statuses",
          Object.entries(p.statuses || {})
            .map(([status, n]) => `${status}: ${count(n)}`)
            .join(", ") || null,
        ],
        ["rate limited", limits.length ? limits.map(([category, until]) => `${category} until ${until}`).join("; ") : null],
        ["backing off until", p.backing_off_until ? timeEl(p.backing_off_until) : null],
        ["last error", p.last_error ? h("span", {}, p.last_error, " ", p.last_error_at ? timeEl(p.last_error_at) : "") : null],
      ],
      { skipEmpty: true },
    ),
  );
}
