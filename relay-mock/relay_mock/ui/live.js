// @ts-check
// The live feed: one EventSource on /inspect/stream shared by every view.

/**
 * @typedef {import("./types").LiveEnvelope} LiveEnvelope
 * @typedef {"connecting" | "connected" | "reconnecting"} LiveState
 */

const RETRY_MS = 2000;

class LiveFeed {
  constructor() {
    /** @type {Set<(summary: LiveEnvelope) => void>} */
    this.listeners = new Set();
    /** @type {Set<(state: LiveState) => void>} */
    this.stateListeners = new Set();
    /** @type {Set<() => void>} */
    this.reconnectListeners = new Set();
    /** @type {LiveState} */
    this.state = "connecting";
    /** @type {EventSource | null} */
    this.source = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.retryTimer = null;
  }

  start() {
    if (this.source) this.source.close();
    const source = new EventSource("/inspect/stream");
    this.source = source;
    source.addEventListener("open", () => {
      const wasDown = this.state === "reconnecting";
      this.setState("connected");
      // The stream does not replay what arrived while it was down: views re-read instead.
      if (wasDown) for (const fn of this.reconnectListeners) fn();
    });
    source.addEventListener("error", () => {
      // EventSource retries by itself while CONNECTING; once CLOSED (an HTTP error) it gives up.
      this.setState("reconnecting");
      if (source.readyState === EventSource.CLOSED && !this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.start();
        }, RETRY_MS);
      }
    });
    source.addEventListener("envelope", (event) => {
      /** @type {LiveEnvelope} */
      let summary;
      try {
        summary = JSON.parse(/** @type {MessageEvent<string>} */ (event).data);
      } catch {
        return;
      }
      for (const fn of this.listeners) {
        try {
          fn(summary);
        } catch (err) {
          console.error("live listener failed", err);
        }
      }
    });
  }

  /** @param {LiveState} state */
  setState(state) {
    if (state === this.state) return;
    this.state = state;
    for (const fn of this.stateListeners) fn(state);
  }

  /** @param {(state: LiveState) => void} fn */
  onState(fn) {
    this.stateListeners.add(fn);
    fn(this.state);
  }

  /**
   * fn() after the stream came back from an outage; returns the unsubscribe function.
   * @param {() => void} fn
   */
  onReconnect(fn) {
    this.reconnectListeners.add(fn);
    return () => this.reconnectListeners.delete(fn);
  }

  /**
   * fn(summary) for every arriving envelope; returns the unsubscribe function.
   * @param {(summary: LiveEnvelope) => void} fn
   * @returns {() => void}
   */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }
}

export const live = new LiveFeed();

/**
 * Calls fn at most once per `ms`, trailing; for views that re-fetch on arrivals.
 * @template {unknown[]} A
 * @param {(...args: A) => unknown} fn
 * @param {number} ms
 * @returns {((...args: A) => void) & { cancel: () => void }}
 */
export function debounce(fn, ms) {
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  /** @param {A} args */
  const wrapped = (...args) => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      fn(...args);
    }, ms);
  };
  return Object.assign(wrapped, {
    cancel: () => {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  });
}
