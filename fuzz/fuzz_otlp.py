"""Coverage-guided fuzzing of relay-mock's OTLP/HTTP ingest (`build_otlp_record`), with atheris.

The contract is fuzz_ingest.py's: any request yields a record or an IngestError with a 4xx
status; besides, every span or log record the request held is either stored or counted as
rejected, and the OTLP answer builds. `check_one` holds the whole oracle; the corpus replay
test (tests/relay_mock/test_fuzz_corpus.py) runs it on the `otlp-*` seeds without atheris.

An input is one selector byte, then the body:

    bits 0-2  Content-Encoding, as fuzz_ingest.py's
    bit 3     1: the harness compresses the rest; 0: the rest is the body as sent
    bit 4     signal: 0 traces, 1 logs
    bits 5-6  Content-Type: application/x-protobuf, application/json, text/plain, none
    bit 7     credentials: 0 X-Sentry-Auth, 1 ?sentry_key=

Run it with `scripts/fuzz.sh` (FUZZ_TARGET=otlp).
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from fuzz.harness import ContractViolation, check_items_inside, check_refusal, fuzz, instrumented

with instrumented(__name__):  # fuzz_ingest imports relay_mock too: inside, so it is instrumented
    from fuzz.fuzz_ingest import ENCODINGS, PROJECT_ID, PROJECTS, PUBLIC_KEY, SETTINGS, compress
    from relay_mock.ingest import IngestRequest, build_otlp_record
    from relay_mock.protocol import otlp
    from relay_mock.protocol.envelope import parse_envelope
    from relay_mock.protocol.ingest_errors import IngestError
    from relay_mock.store.index import index_envelope
    from relay_mock.store.records import EnvelopeRecord

CONTENT_TYPES = ("application/x-protobuf", "application/json", "text/plain", "")
SIGNALS = ("traces", "logs")


@dataclass(frozen=True)
class Case:
    encoding: str
    compress: bool
    signal: str
    content_type: str
    query_auth: bool
    payload: bytes

    @property
    def body(self) -> bytes:
        return compress(self.payload, self.encoding) if self.compress else self.payload


def selector(encoding: str, *, compress: bool, signal: str = "traces", content_type: str = "application/x-protobuf",
             query_auth: bool = False) -> int:  # fmt: skip
    """The selector byte of a case (for writing seeds)."""
    return (
        ENCODINGS.index(encoding)
        | compress << 3
        | SIGNALS.index(signal) << 4
        | CONTENT_TYPES.index(content_type) << 5
        | query_auth << 7
    )


def decode_case(data: bytes) -> Case:
    head = data[0] if data else 0
    return Case(
        encoding=ENCODINGS[head & 0x07],
        compress=bool(head & 0x08),
        signal=SIGNALS[(head >> 4) & 0x01],
        content_type=CONTENT_TYPES[(head >> 5) & 0x03],
        query_auth=bool(head & 0x80),
        payload=data[1:],
    )


def check_one(data: bytes) -> EnvelopeRecord | IngestError:
    """Run one fuzz input through build_otlp_record; raise unless the contract holds."""
    case = decode_case(data)
    headers = {"user-agent": "OTel-OTLP-Exporter-Python/1.45.2"}
    if case.content_type:
        headers["content-type"] = case.content_type
    if case.encoding != "identity":
        headers["content-encoding"] = case.encoding
    query = f"sentry_key={PUBLIC_KEY}" if case.query_auth else ""
    if not case.query_auth:
        headers["x-sentry-auth"] = f"sentry sentry_key={PUBLIC_KEY}"
    try:
        record, converted = build_otlp_record(
            PROJECTS,
            SETTINGS,
            IngestRequest(
                project_part=str(PROJECT_ID),
                path=f"/api/{PROJECT_ID}/integration/otlp/v1/{case.signal}/",
                headers=headers,
                query_string=query,
                body=case.body,
                received_at=0.0,
            ),
            signal=case.signal,
        )
    except IngestError as exc:
        check_refusal(exc)
        return exc
    _check_accounted(record, converted)
    return record


def _check_accounted(record: EnvelopeRecord, converted: otlp.Converted) -> None:
    """Stored, or counted as rejected: nothing in between."""
    if len(record.raw) > SETTINGS.max_envelope_bytes:
        raise ContractViolation(f"{len(record.raw)} bytes passed the {SETTINGS.max_envelope_bytes} limit")
    stored = sum(len(item.records or ()) for item in record.items)
    if stored != converted.accepted or converted.accepted != len(converted.records):
        raise ContractViolation(f"{stored} records stored, {converted.accepted} accepted")
    if converted.rejected and not converted.error_message:
        raise ContractViolation("records were rejected without a message")
    if record.items[-1].type != "otlp_request":
        raise ContractViolation("the request body is not kept")
    orjson.dumps(record.header)
    otlp.response_body(converted)
    check_items_inside(record, "record")
    _check_index(record)


def _check_index(record: EnvelopeRecord) -> None:
    """The index ingest wrote beside the envelope is what the envelope parser and the strict
    container parser read out of it (ingest skips them for its own records)."""
    try:
        reread = index_envelope(parse_envelope(record.raw), max_event_bytes=SETTINGS.max_event_bytes)
    except IngestError as exc:
        raise ContractViolation(f"the stored envelope does not parse: {exc.detail}: {exc.causes}") from exc
    for written, read in zip(record.items, reread, strict=True):
        fields = ("type", "offset", "length", "records", "start_ts", "end_ts")
        if any(getattr(written, name) != getattr(read, name) for name in fields):
            raise ContractViolation(f"item {written.idx}: written {written} but reads back as {read}")


if __name__ == "__main__":
    fuzz(check_one)
