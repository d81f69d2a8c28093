// The JSON the UI reads from relay-mock's inspection API, for tsc's check of the UI (no code).
// They mirror relay_mock/models.py (the same names where a model exists); fields the UI reads that
// models.py does not declare yet (it allows extra fields) are marked "not in models.py". Values a
// server computes from what an SDK sent (payloads, tags, contexts) are `unknown`: the UI must look
// before it uses them.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every error the inspection API answers. */
export interface ApiErrorBody {
  detail: string;
  causes?: string[];
}

// -- envelopes ----------------------------------------------------------------------------------

export interface ProjectRef {
  id: number | null;
  name: string | null;
}

export interface RequestInfo {
  endpoint?: string | null;
  path?: string | null;
  public_key?: string | null;
  auth?: string | null;
  sdk_client?: string | null;
  content_encoding?: string | null;
  compressed_size?: number | null;
  raw_size?: number | null;
  user_agent?: string | null;
  remote_addr?: string | null;
}

/** An item's index entry and, when payloads were asked for, its header and payload. */
export interface Item {
  type?: string | null;
  title?: string | null;
  name?: string | null;
  op?: string | null;
  status?: string | null;
  level?: string | null;
  event_id?: string | null;
  trace_id?: string | null;
  release?: string | null;
  environment?: string | null;
  server_name?: string | null;
  problem?: string | null;
  header?: { [key: string]: unknown } | null;
  payload?: unknown;
}

export interface Envelope {
  id: string;
  seq: number;
  received_at: string;
  received_ts: number;
  project: ProjectRef;
  event_id?: string | null;
  trace_id?: string | null;
  header: { [key: string]: unknown };
  item_types: string[];
  request: RequestInfo;
  items: Item[];
  forward?: ForwardState | null;
}

/** Where one envelope is on its way to a real Sentry (the detail view, forwarded projects only). */
export interface ForwardState {
  state: "pending" | "sent" | "rejected" | "expired";
  attempts: number;
  possibly_duplicated: boolean;
  status?: number | null;
  detail?: string | null;
  next_attempt_at?: string | null;
  updated_at: string;
}

/** GET /inspect/forwarding: one forwarded project. The upstream DSN's key is masked. */
export interface ForwardingProject {
  project: ProjectRef;
  upstream: string;
  acknowledged: number;
  pending: number;
  sent: number;
  rejected: number;
  expired: number;
  evicted_unsent: number;
  duplicates: number;
  oldest_pending_age_s?: number | null;
  last_error?: string | null;
  last_error_at?: string | null;
  statuses: { [status: string]: number };
  rate_limited: { [category: string]: string };
  backing_off_until?: string | null;
}

export interface Forwarding {
  enabled: boolean;
  max_age_s: number;
  projects: ForwardingProject[];
}

export interface EnvelopePage {
  envelopes: Envelope[];
  next_cursor?: number | null;
}

/** What /inspect/stream sends per envelope (relay_mock/live.py): the envelope's summary, marked
 * `lagged` when the subscriber fell behind and envelopes were skipped (not in models.py). */
export interface LiveSummary extends Envelope {
  lagged?: boolean;
}

// -- traces -------------------------------------------------------------------------------------

export interface TraceError {
  event_id?: string | null;
  envelope_id: string;
  service?: string | null;
  span_id?: string | null;
  level?: string | null;
  type?: string | null;
  value?: string | null;
  transaction?: string | null;
  timestamp?: number | null;
}

export interface BrokenLink {
  service?: string | null;
  kind: string | null;
  span_id?: string | null;
  parent_span_id?: string | null;
  description?: string | null;
  envelope_id: string | null;
  reason?: string | null;
  verdict?: string | null;
  attributed_to?: string | null;
  /** The other half of a split trace (a propagation_format break): the trace page links to it. */
  other_trace_id?: string | null;
}

export interface TraceNode {
  kind: string;
  service: string;
  span_id?: string | null;
  parent_span_id?: string | null;
  op?: string | null;
  description?: string | null;
  start?: number | null;
  end?: number | null;
  offset_ms?: number | null;
  duration_ms?: number | null;
  status?: string | null;
  envelope_id: string;
  event_id?: string | null;
  release?: string | null;
  /** The SDK that sent the node's envelope, e.g. "sentry.python/3.0.0". */
  sdk?: string | null;
  broken?: string | null;
  external_parent: boolean;
  missing_child?: string | null;
  /** "otlp" for a span that came over OTLP/HTTP; its resource's attributes (service.name, ...) */
  ingest?: string | null;
  resource?: Record<string, unknown> | null;
  errors: TraceError[];
  children: TraceNode[];
}

/** The verifier's verdict on one trace (verify/); null when it has not judged the trace. */
export type TraceVerdict = "verified" | "unverified" | "failed";

export interface TraceFinding {
  check: string;
  kind: string;
  message: string;
  attributed_to?: string | null;
  note?: string | null;
  other_trace_id?: string | null;
}

/** models.TraceVerification: the verifier's verdict on the trace (relay_mock/traces.py). */
export interface TraceVerification {
  verdict: TraceVerdict | null;
  causes: string[];
  findings: TraceFinding[];
}

export interface Trace {
  trace_id: string;
  services: string[];
  transactions: number;
  errors: TraceError[];
  error_count: number;
  start?: number | null;
  end?: number | null;
  duration_ms?: number | null;
  complete: boolean;
  broken_links: BrokenLink[];
  dsc: { [key: string]: unknown }[];
  dsc_consistent: boolean;
  roots: TraceNode[];
  verification: TraceVerification;
  /** Each service's SDKs (name/version), as its envelopes named them. */
  sdks?: { [service: string]: string[] };
}

export interface TraceSummary {
  trace_id: string;
  services: string[];
  transactions: number;
  errors: number;
  start?: number | null;
  duration_ms?: number | null;
  root?: string | null;
  complete: boolean;
  broken_links: number;
  dsc_consistent: boolean;
  /** The verifier's verdict on the trace. */
  verdict?: TraceVerdict | null;
}

export interface TracePage {
  traces: TraceSummary[];
  next_cursor?: number | null;
}

// -- errors -------------------------------------------------------------------------------------

export interface ErrorSummary {
  event_id?: string | null;
  envelope_id: string;
  project?: string | null;
  received_at: string;
  timestamp?: number | null;
  level?: string | null;
  type?: string | null;
  value?: string | null;
  message?: string | null;
  transaction?: string | null;
  trace_id?: string | null;
  span_id?: string | null;
  release?: string | null;
  environment?: string | null;
  server_name?: string | null;
  /** An SDK may send tags as an object or as [key, value] pairs. */
  tags: { [key: string]: unknown } | unknown[];
}

/** One error event in full; `event` is the payload as the SDK sent it. Its parts are as the SDK
 * wrote them, hence `unknown`. */
export interface ErrorDetail extends ErrorSummary {
  exceptions: unknown[];
  breadcrumbs: unknown[];
  contexts: { [key: string]: unknown };
  request?: { [key: string]: unknown } | null;
  sdk?: unknown;
  event: { [key: string]: unknown };
}

export interface ErrorPage {
  errors: ErrorSummary[];
  next_cursor?: number | null;
}

// -- logs and metrics (not in models.py: store/telemetry.py's records) ---------------------------

interface RecordBase {
  id: string;
  timestamp: number;
  received_at: string;
  service: string;
  trace_id?: string | null;
  span_id?: string | null;
  envelope_id: string;
  attributes?: { [key: string]: unknown };
}

export interface LogRecord extends RecordBase {
  kind: "log";
  level: string;
  body: string | null;
  template?: string | null;
}

export interface MetricRecord extends RecordBase {
  kind: "metric";
  name: string;
  type: string;
  value: number | null;
  unit?: string | null;
}

export type TelemetryRecord = LogRecord | MetricRecord;

/** Telemetry cursors are strings ("envelope.item.record"). */
export interface LogPage {
  logs: LogRecord[];
  next_cursor?: string | null;
}

/** A bucket exists once a point fell in it, so every aggregate has a value. */
export interface MetricBucket {
  start: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  avg: number;
}

export interface MetricSeries {
  name: string;
  type: string;
  unit?: string | null;
  service: string;
  count: number;
  truncated: boolean;
  points: { t: number; v: number; trace_id?: string | null; span_id?: string | null }[];
  buckets: MetricBucket[];
}

export interface MetricPage {
  points: MetricRecord[];
  next_cursor?: string | null;
  series?: MetricSeries[];
}

// -- statistics and refusals --------------------------------------------------------------------

export interface ProjectStats {
  project_id?: number | null;
  envelopes: number;
  raw_bytes?: number | null;
  compressed_bytes?: number | null;
}

export interface RefusedStats {
  total: number;
  injected: number;
  by_reason: { [reason: string]: number };
  by_status: { [status: string]: number };
}

export interface Discarded {
  reason: string;
  category: string;
  quantity: number;
}

export interface ClientReportStats {
  total: number;
  by_reason: { [reason: string]: number };
  by_category: { [category: string]: number };
  by_project: { [project: string]: Discarded[] };
}

export interface Retention {
  max_envelopes: number;
  max_bytes: number;
}

export interface EnvelopeTotals {
  stored: number;
  bytes: number;
  received: number;
  evicted: number;
  evicted_bytes: number;
  commits: number;
  mean_commit_group: number;
  retention: Retention;
}

/** Not in models.py: relay_view/queries.py's verdict_counts, per project. */
export interface RelayCounts {
  [count: string]: number;
}

export interface RelayStats {
  by_project: { [project: string]: RelayCounts };
  pending_envelopes?: number;
}

export interface Stats {
  items_by_type: { [type: string]: number };
  by_project: { [project: string]: ProjectStats };
  by_service: { [server: string]: { [type: string]: number } };
  content_encodings: { [encoding: string]: number };
  refused: RefusedStats;
  client_reports: ClientReportStats;
  items_with_problems: number;
  envelopes: EnvelopeTotals;
  /** models.RelayViewStats. */
  relay?: RelayStats | null;
}

export interface Refusal {
  id: number;
  received_at: string;
  status: number;
  reason: string;
  detail: string;
  injected: boolean;
  project_id?: number | null;
  public_key?: string | null;
  path?: string | null;
  size?: number | null;
  user_agent?: string | null;
  remote_addr?: string | null;
}

export interface RefusalPage {
  refusals: Refusal[];
}

/** `GET /api/relay/healthcheck/ready/` (not in models.py). */
export interface Readiness {
  envelopes: number;
}

// -- faults -------------------------------------------------------------------------------------

export interface FaultRule {
  id: string;
  action: string;
  status: number;
  categories: string[];
  retry_after: number;
  latency_ms: number;
  project?: number | null;
  remaining?: number | null;
  fraction?: number | null;
  expires_at?: string | null;
  created_at: string;
  hits: number;
  description: string;
}

export interface FaultList {
  rules: FaultRule[];
}

// -- "What Sentry stores" (not in models.py: relay_view/) ----------------------------------------

export interface RelayChange {
  path: string;
  stage: string;
  rules: string[];
  remarks: { rule: string; kind: string | null }[];
  errors: string[];
  original_length?: number | null;
  original?: unknown;
}

export interface Leak {
  path: string;
  kind: string;
  reason: string;
  preview: string;
  length: number;
  fingerprint?: string;
}

export interface RelaySuggestion {
  path: string;
  value?: unknown;
}

export interface RelayItemView {
  type: string | null;
  project: ProjectRef;
  verdict: "ok" | "repaired" | "rejected" | "failed";
  detail?: string | null;
  normalized?: { [key: string]: unknown } | null;
  stored?: { [key: string]: unknown } | null;
  changes: RelayChange[];
  leaks: Leak[];
  suggestions: RelaySuggestion[];
  settings?: unknown;
}

export interface LeakyItem {
  envelope_id: string;
  item: number;
  type: string | null;
  event_id?: string | null;
  name?: string | null;
  project: ProjectRef;
  received_at: string;
  leaks: Leak[];
}

export interface LeakList {
  items: LeakyItem[];
  leaks: number;
  covers?: string;
  pending_envelopes?: number;
}

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
