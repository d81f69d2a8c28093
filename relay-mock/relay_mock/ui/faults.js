// @ts-check
// Fault injection: the active rules, deleting one, and a form to add one.

import { clear, empty, h, section } from "./dom.js";
import { api, errorBox, isAbort } from "./api.js";
import { count, duration, timeEl } from "./format.js";

/**
 * @typedef {import("./types").FaultRule} FaultRule
 * @typedef {import("./types").FaultRuleList} FaultRuleList
 * @typedef {"rate_limit" | "status" | "latency" | "drop"} Action
 */

/** @type {Record<Action, string>} */
const ACTIONS = {
  rate_limit: "answer 429 with Retry-After / X-Sentry-Rate-Limits",
  status: "answer with an HTTP status",
  latency: "delay the response",
  drop: "drop the connection without an answer",
};

/**
 * @param {HTMLElement} page
 * @param {import("./router.js").ViewContext} ctx
 */
export async function faultsView(page, ctx) {
  const list = h("div", {});
  const formArea = h("div", {});
  page.append(
    h("div", { class: "page-head" }, h("h1", {}, "Fault injection"), h("span", { class: "muted" }, "rules the ingest applies before storing")),
    list,
    formArea,
  );

  async function load() {
    try {
      const data = /** @type {FaultRuleList} */ (await api("/inspect/faults", { signal: ctx.signal }));
      clear(list).append(rulesTable(data.rules || [], load));
      if (!formArea.firstChild) formArea.append(ruleForm(load));
    } catch (err) {
      if (isAbort(err)) return;
      clear(list).append(errorBox(err));
    }
  }
  await load();
}

/**
 * @param {FaultRule[]} rules
 * @param {() => Promise<void>} reload
 */
function rulesTable(rules, reload) {
  if (!rules.length) return section("Active rules", empty("No rules: every envelope is accepted."));
  const columns = ["id", "action", "what it does", "project", "remaining", "hits", "expires", "created", ""];
  return section(
    `Active rules (${rules.length})`,
    h(
      "table",
      { class: "grid faults" },
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c)))),
      h(
        "tbody",
        {},
        rules.map((rule) => {
          const status = h("span", {});
          const remove = h("button", { type: "button", class: "btn danger-outline small" }, "Delete");
          remove.addEventListener("click", async () => {
            remove.disabled = true;
            try {
              await api(`/inspect/faults/${encodeURIComponent(rule.id)}`, { method: "DELETE" });
              await reload();
            } catch (err) {
              remove.disabled = false;
              clear(status).append(errorBox(err));
            }
          });
          return h(
            "tr",
            { dataset: { ruleId: String(rule.id) } },
            h("td", {}, h("code", {}, String(rule.id))),
            h("td", {}, h("span", { class: "badge warn" }, rule.action ?? "?")),
            h("td", { class: "wrap-text" }, rule.description ?? describe(rule)),
            h("td", {}, rule.project === null || rule.project === undefined ? h("span", { class: "muted" }, "any") : String(rule.project)),
            h("td", { class: "num" }, rule.remaining === null || rule.remaining === undefined ? h("span", { class: "muted" }, "∞") : count(rule.remaining)),
            h("td", { class: "num" }, count(rule.hits)),
            h("td", { class: "nowrap" }, rule.expires_at ? timeEl(rule.expires_at, { withAge: false }) : h("span", { class: "muted" }, "never")),
            h("td", { class: "nowrap" }, timeEl(rule.created_at)),
            h("td", {}, remove, status),
          );
        }),
      ),
    ),
  );
}

/**
 * A fallback when the server sends no description.
 * @param {FaultRule} rule
 */
function describe(rule) {
  const parts = [];
  if (rule.action === "rate_limit") parts.push(`429 for ${(rule.categories || []).join(", ") || "all categories"}, retry after ${rule.retry_after ?? "?"} s`);
  else if (rule.action === "status") parts.push(`answer ${rule.status}`);
  else if (rule.action === "latency") parts.push(`add ${duration(rule.latency_ms)}`);
  else if (rule.action === "drop") parts.push("drop the connection");
  if (rule.fraction !== null && rule.fraction !== undefined) parts.push(`${Math.round(rule.fraction * 100)}% of requests`);
  return parts.join("; ");
}

/**
 * Whether a drop-down's value is one of the actions (it always is: the options are ACTIONS').
 * @param {string} value
 * @returns {value is Action}
 */
function isAction(value) {
  return Object.hasOwn(ACTIONS, value);
}

/** @param {() => Promise<void>} reload */
function ruleForm(reload) {
  /**
   * @param {string} name
   * @param {string} label
   * @param {HTMLElement} input
   * @param {string} [hint]
   */
  const field = (name, label, input, hint) => h("label", { class: "form-field", dataset: { field: name } }, h("span", {}, label), input, hint ? h("small", { class: "muted" }, hint) : null);
  const action = h("select", { name: "action" }, Object.entries(ACTIONS).map(([a, text]) => h("option", { value: a, title: text }, a)));
  /**
   * @param {string} name
   * @param {{ [name: string]: string | number }} [attrs]
   */
  const num = (name, attrs = {}) => h("input", { type: "number", name, attrs });
  const inputs = {
    status: num("status", { min: 100, max: 599, placeholder: "429" }),
    categories: h("input", { type: "text", name: "categories", placeholder: "error, transaction (empty = all)" }),
    retry_after: num("retry_after", { min: 0, placeholder: "60" }),
    latency_ms: num("latency_ms", { min: 0, placeholder: "2000" }),
    project: num("project", { min: 1, placeholder: "any" }),
    remaining: num("remaining", { min: 1, placeholder: "unlimited" }),
    fraction: num("fraction", { min: 0, max: 1, step: "any", placeholder: "1.0" }),
    duration_s: num("duration_s", { min: 1, placeholder: "never" }),
  };
  const chosen = () => (isAction(action.value) ? action.value : "rate_limit");
  const hint = h("div", { class: "muted form-hint" }, ACTIONS[chosen()]);
  const result = h("div", {});
  /** @type {Record<Action, string[]>} */
  const relevant = {
    rate_limit: ["categories", "retry_after"],
    status: ["status"],
    latency: ["latency_ms"],
    drop: [],
  };
  const fields = h(
    "div",
    { class: "form-grid" },
    field("action", "action", action),
    field("status", "status", inputs.status),
    field("categories", "categories", inputs.categories),
    field("retry_after", "retry after (s)", inputs.retry_after),
    field("latency_ms", "latency (ms)", inputs.latency_ms),
    field("project", "project id", inputs.project),
    field("remaining", "remaining hits", inputs.remaining),
    field("fraction", "fraction of requests", inputs.fraction),
    field("duration_s", "expires after (s)", inputs.duration_s),
  );
  const updateRelevant = () => {
    hint.textContent = ACTIONS[chosen()];
    for (const el of fields.querySelectorAll(".form-field")) {
      const name = el instanceof HTMLElement ? el.dataset.field || "" : "";
      const specific = ["status", "categories", "retry_after", "latency_ms"].includes(name);
      el.classList.toggle("dim", specific && !relevant[chosen()].includes(name));
    }
  };
  action.addEventListener("change", updateRelevant);
  updateRelevant();

  /** @param {HTMLInputElement} el */
  const numberOrNull = (el) => (el.value.trim() === "" ? null : Number(el.value));
  const form = h("form", { class: "fault-form", autocomplete: "off" }, fields, hint, h("button", { type: "submit", class: "btn primary" }, "Add rule"), result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // Only what the user filled in: the server supplies defaults for the rest.
    /** @type {{ [field: string]: string | number | string[] }} */
    const body = { action: action.value };
    for (const name of /** @type {const} */ (["status", "retry_after", "latency_ms", "project", "remaining", "fraction"])) {
      const value = numberOrNull(inputs[name]);
      if (value !== null) body[name] = value;
    }
    const categories = inputs.categories.value.split(",").map((c) => c.trim()).filter(Boolean);
    if (categories.length) body.categories = categories;
    const duration = numberOrNull(inputs.duration_s);
    if (duration !== null) body.duration_s = duration;
    clear(result);
    try {
      await api("/inspect/faults", { method: "POST", body });
      form.reset();
      updateRelevant();
      await reload();
    } catch (err) {
      result.append(errorBox(err));
    }
  });
  return section("Add a rule", form);
}
