// The live feed: one EventSource on /inspect/stream shared by every view.

const RETRY_MS = 2000;

class LiveFeed {
  constructor() {
    this.listeners = new Set();
    this.stateListeners = new Set();
    this.reconnectListeners = new Set();
    this.state = "connecting";
    this.source = null;
    this.retryTimer = null;
  }

  start() {
    if (this.source) this.source.close();
    this.source = new EventSource("/inspect/stream");
    this.source.addEventListener("open", () => {
      const wasDown = this.state === "reconnecting";
      this.setState("connected");
      // The stream does not replay what arrived while it was down: views re-read instead.
      if (wasDown) for (const fn of this.reconnectListeners) fn();
    });
    this.source.addEventListener("error", () => {
      // EventSource retries by itself while CONNECTING; once CLOSED (an HTTP error) it gives up.
      this.setState("reconnecting");
      if (this.source.readyState === EventSource.CLOSED && !this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.start();
        }, RETRY_MS);
      }
    });
    this.source.addEventListener("envelope", (event) => {
      let summary;
      try {
        summary = JSON.parse(event.data);
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

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    for (const fn of this.stateListeners) fn(state);
  }

  onState(fn) {
    this.stateListeners.add(fn);
    fn(this.state);
  }

  /** fn() after the stream came back from an outage; returns the unsubscribe function. */
  onReconnect(fn) {
    this.reconnectListeners.add(fn);
    return () => this.reconnectListeners.delete(fn);
  }

  /** fn(summary) for every arriving envelope; returns the unsubscribe function. */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

export const live = new LiveFeed();

/** Calls fn at most once per `ms`, trailing; for views that re-fetch on arrivals. */
export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      fn(...args);
    }, ms);
  };
  wrapped.cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  return wrapped;
}
