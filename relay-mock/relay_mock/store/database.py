"""The SQLite schema and connection settings shared by the writer and the readers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_VERSION = 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS envelopes (
    id               INTEGER PRIMARY KEY,       -- arrival order; the pagination cursor
    envelope_id      TEXT NOT NULL,             -- the row id in hex, then random: see writer.envelope_id
    received_at      REAL NOT NULL,
    project_id       INTEGER NOT NULL,
    project          TEXT NOT NULL,
    public_key       TEXT NOT NULL,
    auth_form        TEXT NOT NULL,
    sdk_client       TEXT,
    endpoint         TEXT NOT NULL,             -- envelope | store | otlp_traces | otlp_logs
    path             TEXT NOT NULL,
    content_encoding TEXT NOT NULL,
    compressed_size  INTEGER NOT NULL,
    raw_size         INTEGER NOT NULL,
    user_agent       TEXT,
    remote_addr      TEXT,
    event_id         TEXT,
    trace_id         TEXT,
    header           TEXT NOT NULL,             -- the envelope header, JSON
    item_types       TEXT NOT NULL,             -- comma separated, in item order
    raw              BLOB NOT NULL              -- the decoded envelope, byte for byte
);
CREATE INDEX IF NOT EXISTS envelopes_received ON envelopes (received_at);
-- Indexes on random keys (trace and event ids) cost a page write per insert per index, the
-- largest share of a commit: only the two the queries need exist, on items.
DROP INDEX IF EXISTS envelopes_trace;

CREATE TABLE IF NOT EXISTS items (
    envelope_rowid  INTEGER NOT NULL,
    idx             INTEGER NOT NULL,
    type            TEXT NOT NULL,
    payload_offset  INTEGER NOT NULL,
    payload_length  INTEGER NOT NULL,
    event_id        TEXT,
    trace_id        TEXT,
    span_id         TEXT,
    parent_span_id  TEXT,
    name            TEXT,
    op              TEXT,
    status          TEXT,
    release         TEXT,
    environment     TEXT,
    server_name     TEXT,
    level           TEXT,
    sdk_name        TEXT,
    sdk_version     TEXT,
    start_ts        REAL,
    end_ts          REAL,
    summary         TEXT,
    problem         TEXT,
    PRIMARY KEY (envelope_rowid, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_trace ON items (trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_event ON items (event_id) WHERE event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_type ON items (type, envelope_rowid);

CREATE TABLE IF NOT EXISTS refusals (
    id           INTEGER PRIMARY KEY,
    received_at  REAL NOT NULL,
    status       INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    detail       TEXT NOT NULL,
    injected     INTEGER NOT NULL DEFAULT 0,   -- 1 when a fault rule refused it on purpose
    project_id   INTEGER,
    public_key   TEXT,
    path         TEXT,
    size         INTEGER,
    user_agent   TEXT,
    remote_addr  TEXT,
    item_types   TEXT            -- JSON list of the refused items' types; NULL: body not parseable
);

-- Traces a load generator (Locust) or a test started: the verifier's ground truth.
CREATE TABLE IF NOT EXISTS expectations (
    trace_id            TEXT PRIMARY KEY,
    scenario            TEXT NOT NULL,
    started_at          REAL NOT NULL,
    sampled             INTEGER NOT NULL,
    sample_rand         REAL,
    sample_rate         REAL,
    expect_services     TEXT NOT NULL,          -- JSON list
    expect_errors_from  TEXT NOT NULL,          -- JSON list
    baggage             TEXT,                   -- JSON object of the sentry-* baggage sent
    status_code         INTEGER,
    outcome             TEXT,
    recorded_at         REAL NOT NULL,
    ended_at            REAL,                   -- when the caller got its answer
    witnesses           TEXT,                   -- JSON list: what each called service said it received
    propagation         TEXT                    -- sentry | w3c | both: how the caller sent the context
);
CREATE INDEX IF NOT EXISTS expectations_started ON expectations (started_at);

-- One row per log, metric and streamed span of the container items (store/telemetry.py).
CREATE TABLE IF NOT EXISTS telemetry (
    envelope_rowid  INTEGER NOT NULL,
    idx             INTEGER NOT NULL,          -- the container's item index in the envelope
    n               INTEGER NOT NULL,          -- the record's position in the container
    kind            TEXT NOT NULL,             -- log | metric | span
    ts              REAL NOT NULL,
    trace_id        TEXT,
    span_id         TEXT,
    project         TEXT NOT NULL,             -- the service
    name            TEXT,                      -- metric name, span name, or a log's template
    level           TEXT,
    metric_type     TEXT,
    value           REAL,
    unit            TEXT,
    body            TEXT,
    PRIMARY KEY (envelope_rowid, idx, n)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS telemetry_trace ON telemetry (trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS telemetry_kind ON telemetry (kind, envelope_rowid);

CREATE TABLE IF NOT EXISTS counters (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);

-- What Relay would do with each event, transaction and feedback item (relay_view/): computed in
-- the background after the commit. Only the verdict is kept; the stored form is recomputed on
-- read. Rows go with their envelope (the trigger), so retention and "clear" need no change.
CREATE TABLE IF NOT EXISTS relay_views (
    envelope_rowid  INTEGER NOT NULL,
    idx             INTEGER NOT NULL,
    project_id      INTEGER NOT NULL,
    type            TEXT NOT NULL,
    verdict         TEXT NOT NULL,              -- ok | repaired | rejected | failed
    errors          INTEGER NOT NULL,           -- normalization errors (the event's `errors`)
    scrubbed        INTEGER NOT NULL,           -- values Relay's data scrubbing changed
    leaks           TEXT,                       -- JSON list of surviving secrets; NULL when none
    detail          TEXT,                       -- why rejected or failed
    duration_ms     REAL,
    PRIMARY KEY (envelope_rowid, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS relay_views_leaks ON relay_views (envelope_rowid) WHERE leaks IS NOT NULL;
-- Forwarding to a real Sentry (relay_mock/forwarding/): one row per acknowledged envelope of a
-- forwarded project, inserted in the commit that stores the envelope. The body is the envelope's
-- own `raw`, so the backlog is on disk and under the retention limits with the envelopes; the
-- writer counts a pending row whose envelope retention evicts as expired, and deletes the rows
-- with their envelopes (store/writer.py).
CREATE TABLE IF NOT EXISTS outbox (
    envelope_rowid  INTEGER PRIMARY KEY,
    project_id      INTEGER NOT NULL,
    state           TEXT NOT NULL,              -- pending | sent | rejected | expired
    queued_at       REAL NOT NULL,
    next_at         REAL NOT NULL,              -- not sent before (backoff, rate limits)
    attempts        INTEGER NOT NULL DEFAULT 0,
    in_flight       INTEGER NOT NULL DEFAULT 0, -- a send began and its answer is not recorded yet
    uncertain       INTEGER NOT NULL DEFAULT 0, -- a send may have arrived without an answer
    status          INTEGER,                    -- the upstream's last HTTP status
    detail          TEXT,                       -- the last error, or a rejection's body
    updated_at      REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (next_at) WHERE state = 'pending';
-- The forwarder's last error per project (GET /inspect/forwarding), committed with the outcome
-- it came with, so that it survives a restart.
CREATE TABLE IF NOT EXISTS forward_errors (
    project_id      INTEGER PRIMARY KEY,
    at              REAL NOT NULL,
    detail          TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS relay_views_follow_envelopes AFTER DELETE ON envelopes BEGIN
    DELETE FROM relay_views WHERE envelope_rowid = OLD.id;
END;
"""


def connect(path: Path, *, readonly: bool = False, synchronous: str = "FULL") -> sqlite3.Connection:
    """Open the database; the writer creates it, readers share it through WAL."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk (fsync of the WAL) before it returns; the acknowledgement
        # waits for that commit, so an acked envelope survives a crash of the process, the
        # kernel or the power. NORMAL (RELAY_SYNCHRONOUS) skips the fsync: acked envelopes
        # survive the process being killed, not the machine going down.
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.executescript(SCHEMA)
        _add_columns(conn)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    conn.execute("PRAGMA busy_timeout=5000")
    # 8 MB of page cache per connection: the hot pages are the indexes' right edges.
    conn.execute("PRAGMA cache_size=-8000")
    conn.row_factory = sqlite3.Row
    return conn


# Columns added after a store may have been created: (table, column, type).
ADDED_COLUMNS = (
    ("refusals", "item_types", "TEXT"),
    ("expectations", "ended_at", "REAL"),
    ("expectations", "witnesses", "TEXT"),
    ("expectations", "propagation", "TEXT"),
)


def _add_columns(conn: sqlite3.Connection) -> None:
    """Bring a store created by an older version up to date (CREATE TABLE IF NOT EXISTS keeps its tables)."""
    for table, column, kind in ADDED_COLUMNS:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
