"""The bounds on indexing work: how much JSON an envelope gets parsed, and how much a summary keeps.

Without them a small compressed body could make indexing parse ~100 MB of "[],[],..." (gigabytes
of Python objects) or keep millions of list entries in a summary for the writer to store.
"""

from __future__ import annotations

import orjson

from relay_mock.protocol.envelope import parse_envelope
from relay_mock.store.index import MAX_SUMMARY_ENTRIES, index_envelope

MAX_EVENT_BYTES = 1024 * 1024


def envelope_of(*items: tuple[str, bytes]) -> bytes:
    lines = [b"{}"]
    for item_type, payload in items:
        lines += [orjson.dumps({"type": item_type, "length": len(payload)}), payload]
    return b"\n".join(lines) + b"\n"


def test_json_payloads_within_the_budget_are_indexed() -> None:
    event = orjson.dumps({"release": "api@1", "exception": {"values": [{"type": "KeyError"}]}})
    entries = index_envelope(parse_envelope(envelope_of(("event", event))), max_event_bytes=MAX_EVENT_BYTES)
    assert (entries[0].release, entries[0].problem) == ("api@1", None)


def test_json_payloads_past_the_envelope_budget_are_flagged_not_parsed() -> None:
    session = orjson.dumps({"status": "ok", "attrs": {"release": "api@1"}})
    data = envelope_of(("session", session), ("session", session))
    first, second = index_envelope(parse_envelope(data), max_event_bytes=MAX_EVENT_BYTES, json_budget=len(session))
    assert (first.status, first.problem) == ("ok", None)
    assert second.status is None
    assert second.problem == f"not indexed: the envelope's JSON payloads exceed relay-mock's {len(session)}-byte budget"


def test_an_oversized_event_within_the_budget_is_flagged_and_still_indexed() -> None:
    event = orjson.dumps({"release": "api@1", "extra": {"blob": "x" * 2000}})
    (entry,) = index_envelope(parse_envelope(envelope_of(("event", event))), max_event_bytes=1024)
    assert entry.release == "api@1"
    assert entry.problem == f"{len(event)} bytes exceed Relay's 1024-byte limit for event items"


def test_attachments_do_not_spend_the_json_budget() -> None:
    data = envelope_of(("attachment", b"x" * 100), ("session", b'{"status":"ok"}'))
    _, session = index_envelope(parse_envelope(data), max_event_bytes=MAX_EVENT_BYTES, json_budget=20)
    assert session.status == "ok"


def test_a_sessions_summary_keeps_at_most_max_summary_entries_aggregates() -> None:
    sessions = orjson.dumps({"aggregates": [{"exited": 1}] * (MAX_SUMMARY_ENTRIES + 5)})
    (entry,) = index_envelope(parse_envelope(envelope_of(("sessions", sessions))), max_event_bytes=MAX_EVENT_BYTES)
    assert entry.summary is not None and len(entry.summary["aggregates"]) == MAX_SUMMARY_ENTRIES


def test_a_client_report_summary_keeps_at_most_max_summary_entries_discards() -> None:
    discard = {"reason": "network_error", "category": "error", "quantity": 1}
    report = orjson.dumps({"timestamp": 1.0, "discarded_events": [discard] * (MAX_SUMMARY_ENTRIES + 5)})
    (entry,) = index_envelope(parse_envelope(envelope_of(("client_report", report))), max_event_bytes=MAX_EVENT_BYTES)
    assert entry.summary is not None and len(entry.summary["discarded_events"]) == MAX_SUMMARY_ENTRIES


def test_an_event_summary_keeps_at_most_max_summary_entries_exceptions() -> None:
    event = orjson.dumps({"exception": {"values": [{"type": "E", "value": "v"}] * (MAX_SUMMARY_ENTRIES + 5)}})
    (entry,) = index_envelope(parse_envelope(envelope_of(("event", event))), max_event_bytes=MAX_EVENT_BYTES)
    assert entry.summary is not None and len(entry.summary["exceptions"]) == MAX_SUMMARY_ENTRIES
