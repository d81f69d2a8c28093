// The types relay-mock's web UI reads. Everything relay-mock answers comes generated from its
// OpenAPI document (./api-types.d.ts, written by scripts/gen_ui_types.py: `make ui-types`);
// only what no endpoint declares is kept here by hand, and why:
// - TelemetryRecord: the UI's own union of the two records it shows in one list (a log or a
//   metric point), told apart by `kind`; the API sends each kind from its own endpoint.
// - The parts of an error event as an SDK sends them: relay-mock passes the event through as
//   the SDK wrote it (ErrorDetail's `exceptions`, `breadcrumbs` and `event` are `unknown`), so
//   these are Sentry's event protocol, not relay-mock's declaration, and nothing checked them.

export * from "./api-types";

import type { LogRecord, MetricPoint } from "./api-types";

/** A log or a metric point, as the trace view lists them under a span. */
export type TelemetryRecord = LogRecord | MetricPoint;

// -- parts of an error event as an SDK sends them (Sentry's event protocol) ----------------------
// Nothing checked these on the way in: every field may be missing or of another type, and the
// views look before they use one.

export interface SentryException {
  type?: string | null;
  value?: unknown;
  module?: string | null;
  mechanism?: { type?: string | null; handled?: boolean | null } | null;
  stacktrace?: { frames?: unknown } | null;
}

export interface SentryFrame {
  filename?: string | null;
  abs_path?: string | null;
  module?: string | null;
  function?: string | null;
  lineno?: unknown;
  in_app?: boolean | null;
  context_line?: unknown;
  pre_context?: unknown;
  post_context?: unknown;
  vars?: unknown;
}

export interface SentryBreadcrumb {
  timestamp?: string | number | null;
  category?: string | null;
  type?: string | null;
  level?: string | null;
  message?: string | null;
  data?: { [key: string]: unknown } | null;
}
