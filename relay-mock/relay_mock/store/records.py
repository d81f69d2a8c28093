"""What the writer stores: an accepted envelope with its index entries, a refusal, a batch of
expectations; and the envelope ids it hands out. Plain records, shared by ingest, the writer,
the telemetry rows and the live feed (none of which need each other to name them)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from relay_mock.store.index import ItemIndex


def envelope_id(rowid: int) -> str:
    """32 hex characters: the row id, then randomness. Ids are unguessable but in arrival order,
    so they need no index of their own (a lookup reads the row id back from the first 12)."""
    return f"{rowid:012x}{secrets.token_hex(10)}"


def rowid_of(envelope_id: str) -> int | None:
    if len(envelope_id) != 32 or not all(c in "0123456789abcdef" for c in envelope_id):
        return None
    return int(envelope_id[:12], 16)


@dataclass(slots=True)
class EnvelopeRecord:
    received_at: float
    project_id: int
    project: str
    public_key: str
    auth_form: str
    sdk_client: str | None
    endpoint: str
    path: str
    content_encoding: str
    compressed_size: int
    raw: bytes
    header: dict[str, Any]
    items: list[ItemIndex]
    user_agent: str | None = None
    remote_addr: str | None = None
    event_id: str | None = None
    trace_id: str | None = None
    rowid: int = 0  # assigned by the writer, like envelope_id
    envelope_id: str = ""


@dataclass(slots=True)
class RefusalRecord:
    """A refused request as the writer stores it (the API lists it as `models.Refusal`, the
    verifier reads it as `verify.model.RefusalFact`)."""

    received_at: float
    status: int
    reason: str
    detail: str
    injected: bool = False
    project_id: int | None = None
    public_key: str | None = None
    path: str | None = None
    size: int | None = None
    user_agent: str | None = None
    remote_addr: str | None = None
    item_types: str | None = None  # JSON list of the refused items' types, None when unparseable


@dataclass(slots=True)
class ExpectationRows:
    """Rows for the expectations table, validated by expectations.py from a POSTed
    `models.ExpectationBatch` (the verifier reads them back as `verify.model.ExpectationFact`)."""

    rows: list[tuple[Any, ...]]


@dataclass(slots=True)
class OutboxChange:
    """One change to forwarded envelopes' outbox rows (the forwarder's, committed by the writer).

    `begin`: a send starts (the rows are marked in flight, so a crash leaves them uncertain).
    Otherwise the rows take `state`, `next_at`, `status` and `detail`; only rows still pending
    change (retention or a clear may have taken the others), and the counters follow them."""

    rowids: list[int]
    begin: bool = False
    state: str = "pending"
    next_at: float | None = None
    status: int | None = None
    detail: str | None = None
    uncertain: bool = False  # the send's outcome is unknown (it may have arrived)
    # The last error per project id (when, what) the forwarder met in this round: kept in the store.
    errors: dict[int, tuple[float, str]] = field(default_factory=dict)
