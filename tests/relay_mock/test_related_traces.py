"""Where a split trace's other half may be (store/related.py): an expectation whose witness names
the trace is found however many other requests were in flight at the moment its root started
(the e2e test under a Locust burst found the witness cut off by the shared limit)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from relay_mock.store.database import connect
from relay_mock.store.related import LIMIT, traces_open_at

AT = 1_800_000_000.0


def _expect(conn: object, trace_id: str, witnesses: list[dict[str, object]]) -> None:
    conn.execute(  # type: ignore[attr-defined]
        "INSERT INTO expectations (trace_id, scenario, started_at, sampled, expect_services, expect_errors_from,"
        " recorded_at, ended_at, witnesses) VALUES (?, 'orders', ?, 1, '[]', '[]', ?, ?, ?)",
        (trace_id, AT - 0.3, AT, AT + 0.3, json.dumps(witnesses)),
    )


def test_the_expectation_whose_witness_names_the_trace_is_found_among_many_in_flight(tmp_path: Path) -> None:
    conn = connect(tmp_path / "relay.sqlite3")
    callee_trace = secrets.token_hex(16)
    for _ in range(LIMIT * 3):  # requests in flight when the callee's root started
        _expect(conn, "0" + secrets.token_hex(16)[1:], [])
    # SQLite answers a UNION in trace id order: the caller's sorts after every other one.
    caller = "f" + secrets.token_hex(16)[1:]
    _expect(conn, caller, [{"service": "catalog", "received": f"{caller}-{'a' * 16}-1", "trace_id": callee_trace}])

    found = traces_open_at(conn, AT, callee_trace, 0.5)

    assert caller in found
    assert len(found) == len(set(found))
