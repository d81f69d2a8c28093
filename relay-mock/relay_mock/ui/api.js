// @ts-check
// The client of relay-mock's inspection API: one request, its JSON answer or an ApiError with the
// API's {detail, causes}; and the box that shows such an error on a page.

import { h } from "./dom.js";

export class ApiError extends Error {
  /**
   * @param {string} method
   * @param {string} path
   * @param {number} status 0 when no answer came
   * @param {string} detail
   * @param {string[]} [causes]
   */
  constructor(method, path, status, detail, causes) {
    super(detail);
    this.method = method;
    this.path = path;
    this.status = status;
    this.detail = detail;
    this.causes = causes || [];
  }
}

/**
 * One request to relay-mock's API: the parsed JSON answer, or an ApiError with the API's
 * {detail, causes}. The answer is `unknown` here: each caller names the shape it expects
 * (types.d.ts), which is the server's word, not checked at run time.
 * @param {string} path
 * @param {{ method?: string, body?: unknown, signal?: AbortSignal }} [options]
 * @returns {Promise<unknown>}
 */
export async function api(path, { method = "GET", body, signal } = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: "application/json" };
  /** @type {RequestInit} */
  const init = { method, signal, headers };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError(method, path, 0, "relay-mock is unreachable", [String(err instanceof Error ? err.message || err : err)]);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const detail = data && typeof data.detail === "string" ? data.detail : `${response.status} ${response.statusText}`;
    const causes = data && Array.isArray(data.causes) ? data.causes.map(String) : text && !data ? [text.slice(0, 500)] : [];
    throw new ApiError(method, path, response.status, detail, causes);
  }
  return data;
}

/** Whether a failure is a request the view cancelled (it was left): nothing to report.
 * @param {unknown} err
 */
export function isAbort(err) {
  return err instanceof Error && err.name === "AbortError";
}

/**
 * A visible account of a failed request: what was asked, the status, the detail and causes.
 * @param {unknown} err
 */
export function errorBox(err) {
  if (err instanceof ApiError) {
    return h(
      "div",
      { class: "error-box", attrs: { role: "alert" } },
      h("div", { class: "error-title" }, `${err.method} ${err.path} → ${err.status || "network error"}`),
      h("div", { class: "error-detail" }, err.detail),
      err.causes.length ? h("ul", { class: "error-causes" }, err.causes.map((c) => h("li", {}, c))) : null,
    );
  }
  return h("div", { class: "error-box", attrs: { role: "alert" } }, h("div", { class: "error-title" }, "error"), String(err));
}
