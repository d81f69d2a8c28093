// @ts-check
// The UI's routes: hash URLs (#/envelopes/<id>?project=api) with every dynamic part encoded, and
// what the router (app.js) hands each view.

/**
 * What a view gets from the router (app.js): the hash's query, an AbortSignal that fires when
 * the view is left, and subscriptions that end with the view.
 * @typedef {object} ViewContext
 * @property {URLSearchParams} params
 * @property {AbortSignal} signal
 * @property {(fn: (summary: import("./types").LiveEnvelope) => void) => () => void} onLive
 * @property {(fn: () => void) => void} onReconnect
 * @property {(fn: () => void) => void} onCleanup
 */

/**
 * The href of one of our own routes; every dynamic segment is encoded.
 * @param {Array<string | number>} segments
 */
export function route(...segments) {
  return "#/" + segments.map((s) => encodeURIComponent(String(s))).join("/");
}

/**
 * @param {string} base
 * @param {{ [key: string]: string | null | undefined }} params empty values are left out
 */
export function routeWithQuery(base, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const text = query.toString();
  return text ? `${base}?${text}` : base;
}
