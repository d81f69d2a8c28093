"""Write the fuzzer's seed corpus (fuzz/corpus/): real sentry-python envelopes and grammar edge cases.

Seeds are what the fuzzer mutates first, so they should reach deep: envelopes captured from
sentry-sdk itself (not hand-written look-alikes), each in every encoding, plus the envelope
grammar's corner cases. Run from the repository root:

    PYTHONPATH=relay-mock:. .venv/bin/python -m fuzz.make_corpus

It also writes the OTLP target's seeds (fuzz/otlp_seeds.py, named otlp-*).
Files it does not name (crashers the fuzzer found and we kept) are left alone.
"""

from __future__ import annotations

import gzip
import time
import zlib
from pathlib import Path
from typing import Any

import brotli
import sentry_sdk
import sentry_sdk.logger
import zstandard
from sentry_sdk.envelope import Envelope, Item, PayloadRef
from sentry_sdk.session import Session
from sentry_sdk.transport import Transport

from fuzz import otlp_seeds
from fuzz.fuzz_ingest import DSN, compress, selector

CORPUS = Path(__file__).parent / "corpus"
EVENT_ID = "9ec79c33ec9942ab8353589fcb2e04dc"


class _CaptureTransport(Transport):
    """Keeps envelopes instead of sending them."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)


def sdk_envelopes() -> dict[str, bytes]:
    """Envelopes serialised by sentry-sdk, keyed by what they carry."""
    transport = _CaptureTransport()
    sentry_sdk.init(
        dsn=DSN,
        transport=transport,
        release="api@1.0.0",
        environment="fuzz",
        traces_sample_rate=1.0,
        enable_logs=True,
        default_integrations=False,
        auto_session_tracking=False,
    )
    captured: dict[str, Envelope] = {}

    def take(name: str) -> None:
        sentry_sdk.flush()
        assert transport.envelopes, f"sentry-sdk sent no envelope for {name}"
        captured[name] = transport.envelopes.pop(0)
        transport.envelopes.clear()

    with sentry_sdk.start_transaction(op="http.server", name="GET /orders/{order_id}") as transaction:
        transaction.set_tag("route", "/orders/{order_id}")
        with sentry_sdk.start_span(op="db", name="SELECT * FROM orders WHERE id = %s"):
            pass
        with sentry_sdk.start_span(op="http.client", name="GET http://downstream:8000/stock"):
            pass
    take("transaction")

    sentry_sdk.add_breadcrumb(category="http", message="GET /orders/7", level="info")
    sentry_sdk.add_breadcrumb(category="query", message="SELECT 1", data={"rows": 1})
    try:
        int("seven")  # a real exception, with a real traceback
    except ValueError:
        sentry_sdk.capture_exception()
    take("error")

    with sentry_sdk.new_scope() as scope:
        # Binary, with newlines: only an explicit length can carry it.
        scope.add_attachment(bytes=b"line one\nline two\n\x00\xff\xfe\n", filename="trace.bin")
        sentry_sdk.capture_message("upload failed")
    take("attachment")

    sentry_sdk.logger.info("order {order_id} shipped", order_id=7)
    take("log")

    sentry_sdk.crons.capture_checkin(monitor_slug="nightly-report", status="ok", duration=1.5)
    take("check_in")
    sentry_sdk.get_client().close()

    session = Session(release="api@1.0.0", environment="fuzz", session_mode="application")
    session.update(status="exited", duration=3.0)
    captured["session"] = Envelope(items=[Item(PayloadRef(json=session.to_json()), type="session")])
    report = {
        "timestamp": time.time(),
        "discarded_events": [
            {"reason": "ratelimit_backoff", "category": "transaction", "quantity": 3},
            {"reason": "network_error", "category": "error", "quantity": 1},
        ],
    }
    captured["client_report"] = Envelope(items=[Item(PayloadRef(json=report), type="client_report")])
    return {name: envelope.serialize() for name, envelope in captured.items()}


def grammar_cases() -> dict[str, bytes]:
    """The envelope grammar's corner cases (tests/relay_mock/test_envelope_grammar.py checks each)."""
    head = b'{"event_id":"%s"}\n' % EVENT_ID.encode()
    return {
        "explicit-length": head + b'{"type":"attachment","length":5}\nhello\n',
        "implicit-length": head + b'{"type":"attachment"}\nhello\n',
        "empty-headers": b'{}\n{"type":"event"}\n{}\n',
        "zero-items": b"{}\n",
        "zero-items-no-newline": b"{}",
        "zero-length-explicit": b'{}\n{"type":"attachment","length":0}\n\n{"type":"attachment","length":0}\n',
        "zero-length-implicit": b'{}\n{"type":"attachment"}\n\n',
        "no-final-newline": b'{}\n{"type":"attachment","length":3}\nabc',
        "trailing-newlines": b'{}\n{"type":"attachment"}\nabc\n\n\n\r\n',
        "crlf": b'{}\r\n{"type":"event"}\r\n{}\r\n',
        "unknown-type": b'{}\n{"type":"future_thing","item_count":2}\n{"version":2,"items":[{},{}]}\n',
        "binary-with-newlines": b'{}\n{"type":"attachment","length":6}\n\n\x00\n\xff\n\n\n',
        "length-past-end": b'{}\n{"type":"attachment","length":10}\nabc\n',
        "payload-longer-than-length": b'{}\n{"type":"attachment","length":2}\nabc\n',
        "header-not-object": b"[]\n",
        "item-header-not-object": b'{}\n"event"\n{}\n',
        "missing-type": b'{}\n{"length":2}\n{}\n',
        "empty-type": b'{}\n{"type":""}\n{}\n',
        "invalid-event-id": b'{"event_id":"not-a-uuid"}\n',
        "dsn-header": b'{"dsn":"%s"}\n{"type":"event"}\n{}\n' % DSN.encode(),
        # The envelope header's dsn must not crash auth (urlsplit raises on an unclosed "[").
        "dsn-unclosed-bracket": b'{"dsn":"http://[key@host/1"}\n',
    }


def write(name: str, data: bytes) -> None:
    (CORPUS / name).write_bytes(data)


def main() -> None:
    CORPUS.mkdir(exist_ok=True)
    envelopes = sdk_envelopes()
    for name, envelope in envelopes.items():
        write(f"sdk-{name}.identity", bytes([selector("identity", compress=False)]) + envelope)
        for encoding in ("gzip", "deflate", "br", "zstd"):
            write(f"sdk-{name}.{encoding}", bytes([selector(encoding, compress=True)]) + envelope)
        write(f"sdk-{name}.deflate-raw", bytes([selector("deflate", compress=True, raw_deflate=True)]) + envelope)

    # Bodies as they go on the wire, for the fuzzer to mutate the compressed bytes themselves.
    transaction, error = envelopes["transaction"], envelopes["error"]
    as_sent = {
        "wire-transaction.br": ("br", brotli.compress(transaction, quality=4)),  # sentry-python with brotli
        "wire-error.gzip": ("gzip", gzip.compress(error, compresslevel=9, mtime=0)),  # ... without brotli
        "wire-error.gzip-two-members": ("gzip", compress(error[:50], "gzip") + compress(error[50:], "gzip")),
        "wire-error.deflate-zlib": ("deflate", zlib.compress(error)),
        "wire-error.deflate-raw": ("deflate", compress(error, "deflate", raw_deflate=True)),
        "wire-error.zstd-two-frames": ("zstd", compress(error[:50], "zstd") + compress(error[50:], "zstd")),
        "wire-transaction.zstd-streamed": ("zstd", _zstd_streamed(transaction)),
    }
    for name, (encoding, body) in as_sent.items():
        write(name, bytes([selector(encoding, compress=False)]) + body)
    write("encoding-unsupported", bytes([selector("compress", compress=False)]) + error)

    # Each credential form, and the legacy store endpoint with the SDK's event.
    write("auth-query", bytes([selector("gzip", compress=True, auth="query")]) + error)
    write("auth-basic", bytes([selector("br", compress=True, auth="basic")]) + error)
    dsn_envelope = b'{"dsn":"%s",%s' % (DSN.encode(), transaction[1:])
    write("auth-envelope-dsn", bytes([selector("identity", compress=False, auth="none")]) + dsn_envelope)
    write("auth-missing", bytes([selector("identity", compress=False, auth="none")]) + error)
    event = _first_payload(error)
    write("store-event.identity", bytes([selector("identity", compress=False, endpoint="store")]) + event)
    write("store-event.gzip", bytes([selector("gzip", compress=True, endpoint="store")]) + event)

    for name, envelope in grammar_cases().items():
        auth = "none" if name.startswith("dsn-") else "x-sentry-auth"
        write(f"grammar-{name}", bytes([selector("identity", compress=False, auth=auth)]) + envelope)

    # OTLP/HTTP requests for fuzz/fuzz_otlp.py (named otlp-*; the replay test routes them there).
    for name, data in otlp_seeds.seeds().items():
        write(name, data)


def _zstd_streamed(data: bytes) -> bytes:
    # A streaming compressor does not know the content size: the frame header omits it.
    packer = zstandard.ZstdCompressor(level=3).compressobj()
    return packer.compress(data) + packer.flush()


def _first_payload(envelope: bytes) -> bytes:
    parsed = Envelope.deserialize(envelope)
    payload = parsed.items[0].payload.get_bytes()
    assert isinstance(payload, bytes)
    return payload


if __name__ == "__main__":
    main()
