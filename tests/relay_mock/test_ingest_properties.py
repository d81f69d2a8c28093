"""Properties of the ingest pipeline over generated and hostile input (hypothesis).

(a) any envelope the grammar allows parses back to the headers and payloads it was built from;
(b) any body, in any encoding, yields a record or a 4xx IngestError, never another exception;
(c) decoding never returns more than the limit.
Example counts are kept moderate: the file runs in CI on two cores in well under 30 s.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.fuzz_ingest import DSN, PUBLIC_KEY, compress
from relay_mock.ingest import IngestRequest, build_record
from relay_mock.protocol.decoding import decode_body
from relay_mock.protocol.envelope import parse_envelope
from relay_mock.protocol.ingest_errors import IngestError, PayloadTooLarge
from relay_mock.settings import RelaySettings, load_projects
from relay_mock.store.records import EnvelopeRecord

PROJECTS = load_projects({})
SETTINGS = RelaySettings(data_dir=Path("/nonexistent/relay-mock-properties"))  # build_record does no I/O
ENCODINGS = ["identity", "gzip", "deflate", "br", "zstd"]
# Container items (log, trace_metric, v2 span) are parsed strictly, so arbitrary bytes are not a
# valid one: they are generated as valid containers instead (`containers`).
ITEM_TYPES = ["event", "transaction", "attachment", "session", "sessions", "client_report", "check_in"]
ITEM_TYPES += ["span", "profile", "profile_chunk", "feedback", "user_report", "statsd"]
STRICT_TYPES = {"log", "trace_metric"}
LOG = {"timestamp": 1.5, "level": "info", "body": "b", "trace_id": "a" * 32, "attributes": {}}

# Every test here is CPU-bound and small; the deadline only guards against a pathological slowdown.
PROPERTY = settings(
    max_examples=100,
    deadline=timedelta(seconds=2),
    database=None,  # no .hypothesis/ directory in the repository
    suppress_health_check=[HealthCheck.too_slow],
)

# -- strategies -----------------------------------------------------------------------------------

CHECKED_FIELDS = {"event_id", "dsn", "sent_at", "trace"}
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _without(keys: set[str]) -> st.SearchStrategy[dict[str, Any]]:
    """JSON objects of any content, except for `keys` (dropped, not filtered: no rejections)."""
    return st.dictionaries(st.text(max_size=10), json_values, max_size=3).map(
        lambda value: {k: v for k, v in value.items() if k not in keys}
    )


# The parser checks these envelope header fields: generate them only in valid form.
checked_fields = st.fixed_dictionaries(
    {},
    optional={
        "event_id": st.uuids().map(lambda u: u.hex),
        "dsn": st.just(DSN),
        "sent_at": st.just("2026-01-01T00:00:00.000000Z"),
        "trace": st.dictionaries(st.text(max_size=8), json_scalars, max_size=3),
    },
)
envelope_headers = st.builds(lambda free, fixed: {**free, **fixed}, _without(CHECKED_FIELDS), checked_fields)


@st.composite
def items(draw: st.DrawFn) -> tuple[dict[str, Any], bytes]:
    """An item header and payload: any bytes with an explicit length, or newline-free bytes without."""
    item_type = draw(
        st.sampled_from(ITEM_TYPES) | st.text(min_size=1, max_size=12).filter(lambda t: t not in STRICT_TYPES)
    )
    extra = draw(_without({"type", "length", "item_count", "content_type"}))
    if draw(st.integers(0, 9)) == 0:
        logs = [LOG] * draw(st.integers(0, 3))
        payload = orjson.dumps({"version": 2, "items": logs})
        return {**extra, "type": "log", "item_count": len(logs), "length": len(payload)}, payload
    if draw(st.booleans()):
        payload = draw(st.binary(max_size=200))
        return {**extra, "type": item_type, "length": len(payload)}, payload
    payload = draw(st.binary(max_size=200).map(lambda b: b.replace(b"\n", b"")))
    return {**extra, "type": item_type}, payload


@st.composite
def envelopes(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]], bytes]:
    header = draw(envelope_headers)
    parts = draw(st.lists(items(), max_size=5))
    lines = [orjson.dumps(header)]
    for item_header, payload in parts:
        lines += [orjson.dumps(item_header), payload]
    data = b"\n".join(lines)
    if draw(st.booleans()):
        data += b"\n"  # the final newline is optional
    return header, parts, data


def mutate(data: bytes, ops: list[tuple[str, int, bytes]]) -> bytes:
    """Apply bit flips, truncations and insertions at positions taken modulo the current size."""
    out = bytearray(data)
    for op, position, blob in ops:
        at = position % (len(out) + 1)
        if op == "flip" and out:
            out[at % len(out)] ^= 1 << (position % 8)
        elif op == "truncate":
            del out[at:]
        elif op == "insert":
            out[at:at] = blob
        elif op == "delete":
            del out[at : at + len(blob) + 1]
    return bytes(out)


mutations = st.lists(
    st.tuples(
        st.sampled_from(["flip", "truncate", "insert", "delete"]),
        st.integers(min_value=0, max_value=1 << 16),
        st.binary(min_size=1, max_size=8) | st.sampled_from([b"\n", b"{", b"}", b'"length":', b"\x00"]),
    ),
    min_size=1,
    max_size=4,
)


def ingest(body: bytes, encoding: str, *, endpoint: str = "envelope") -> EnvelopeRecord | IngestError:
    """build_record with valid credentials; the contract: a record, or an IngestError with a 4xx."""
    headers = {"x-sentry-auth": f"Sentry sentry_key={PUBLIC_KEY}, sentry_version=7", "content-encoding": encoding}
    try:
        return build_record(
            PROJECTS,
            SETTINGS,
            IngestRequest(
                project_part="1",
                path=f"/api/1/{endpoint}/",
                headers=headers,
                query_string="",
                body=body,
                received_at=0.0,
            ),
            endpoint=endpoint,
        )
    except IngestError as exc:
        assert 400 <= exc.status < 500, (exc.status, exc.detail)
        return exc


# -- (a) round trip -------------------------------------------------------------------------------


@PROPERTY
@given(envelopes())
def test_a_valid_envelope_parses_back_to_its_headers_and_payloads(
    case: tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]], bytes],
) -> None:
    header, parts, data = case
    envelope = parse_envelope(data)
    assert envelope.header == header
    assert [(item.header, item.payload) for item in envelope.items] == parts


@PROPERTY
@given(envelopes())
def test_item_offsets_locate_the_payloads(
    case: tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]], bytes],
) -> None:
    data = case[2]
    for item in parse_envelope(data).items:
        assert data[item.offset : item.offset + len(item.payload)] == item.payload


@PROPERTY
@given(envelopes(), st.sampled_from(ENCODINGS))
def test_a_valid_envelope_is_ingested_in_every_encoding(
    case: tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]], bytes], encoding: str
) -> None:
    data = case[2]
    record = ingest(compress(data, encoding), encoding)
    assert isinstance(record, EnvelopeRecord)
    assert record.raw == data
    assert len(record.items) == len(case[1])


# -- (b) hostile input ----------------------------------------------------------------------------


@PROPERTY
@given(st.binary(max_size=2000), st.sampled_from(ENCODINGS), st.sampled_from(["envelope", "store"]))
def test_arbitrary_bytes_get_a_record_or_a_4xx(body: bytes, encoding: str, endpoint: str) -> None:
    ingest(body, encoding, endpoint=endpoint)


@PROPERTY
@given(st.binary(max_size=2000), st.sampled_from(ENCODINGS))
def test_arbitrary_bytes_compressed_get_a_record_or_a_4xx(data: bytes, encoding: str) -> None:
    ingest(compress(data, encoding), encoding)


@PROPERTY
@given(envelopes(), mutations, st.sampled_from(ENCODINGS))
def test_a_mutated_envelope_compressed_gets_a_record_or_a_4xx(
    case: tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]], bytes],
    ops: list[tuple[str, int, bytes]],
    encoding: str,
) -> None:
    ingest(compress(mutate(case[2], ops), encoding), encoding)


@PROPERTY
@given(envelopes(), mutations, st.sampled_from(ENCODINGS), st.booleans())
def test_a_mutated_compressed_body_gets_a_record_or_a_4xx(
    case: tuple[dict[str, Any], list[tuple[dict[str, Any], bytes]], bytes],
    ops: list[tuple[str, int, bytes]],
    encoding: str,
    raw_deflate: bool,
) -> None:
    ingest(mutate(compress(case[2], encoding, raw_deflate=raw_deflate), ops), encoding)


@PROPERTY
@given(json_values, st.sampled_from(ENCODINGS))
def test_any_json_on_the_store_endpoint_gets_a_record_or_a_4xx(event: Any, encoding: str) -> None:
    ingest(compress(orjson.dumps(event), encoding), encoding, endpoint="store")


# -- (c) the decompressed-size limit --------------------------------------------------------------


@PROPERTY
@given(st.binary(max_size=4000), st.sampled_from(ENCODINGS), st.integers(min_value=0, max_value=5000))
def test_decoding_never_returns_more_than_the_limit(data: bytes, encoding: str, max_size: int) -> None:
    try:
        decoded = decode_body(compress(data, encoding), encoding, max_size=max_size)
    except PayloadTooLarge:
        assert len(data) > max_size
        return
    assert decoded == data
    assert len(decoded) <= max_size


@PROPERTY
@given(st.binary(max_size=2000), st.sampled_from(ENCODINGS), st.integers(min_value=0, max_value=5000))
def test_decoding_garbage_never_returns_more_than_the_limit(body: bytes, encoding: str, max_size: int) -> None:
    try:
        decoded = decode_body(body, encoding, max_size=max_size)
    except IngestError as exc:
        assert exc.status in (400, 413)
        return
    assert len(decoded) <= max_size


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_repetitive_body_just_over_the_limit_is_refused(encoding: str) -> None:
    data = b"x" * 100_001
    with pytest.raises(PayloadTooLarge):
        decode_body(compress(data, encoding), encoding, max_size=100_000)
