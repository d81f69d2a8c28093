"""What an envelope becomes on its way upstream: its header names the upstream's DSN, its
dynamic sampling context the upstream's key, and its body is compressed again when it came so.

relay-mock stores the decoded envelope (`raw`); the forwarder rewrites its header line and sends
the rest byte for byte. An OTLP request is sent as it came, to the upstream's OTLP endpoint.
An envelope (or OTLP request) that arrived compressed (gzip, deflate, br or zstd) leaves
gzip-compressed (every Sentry ingest takes gzip); one that arrived plain leaves plain."""

from __future__ import annotations

import gzip

import orjson

from relay_mock.faults import CATEGORY_OF_ITEM, NEVER_LIMITED
from relay_mock.protocol.envelope import parse_envelope
from relay_mock.settings import Upstream

GZIP_LEVEL = 1  # the fastest: every forwarded envelope costs CPU on relay-mock's own machine


def rewrite(raw: bytes, upstream: Upstream, sandbox_keys: dict[str, Upstream]) -> bytes:
    """`raw` with the header's `dsn` set to the upstream's, and the DSC's `trace.public_key`
    replaced when it is the sandbox key of a forwarded project (`sandbox_keys`: sandbox public key
    → that project's upstream). Any other `public_key` is left alone: it is not the sandbox's to
    translate. Raises ValueError when the header is not a JSON object."""
    end = raw.find(b"\n")
    head, rest = (raw, b"") if end < 0 else (raw[:end], raw[end:])
    header = orjson.loads(head) if head.strip() else {}
    if not isinstance(header, dict):
        raise ValueError("the envelope header is not a JSON object")
    header["dsn"] = upstream.dsn
    trace = header.get("trace")
    if isinstance(trace, dict):
        target = sandbox_keys.get(trace.get("public_key"))  # type: ignore[arg-type]
        if target is not None:
            trace["public_key"] = target.public_key
    return orjson.dumps(header) + rest


def encode(body: bytes, original_encoding: str) -> tuple[bytes, str | None]:
    """The body as sent, and its Content-Encoding (None: plain)."""
    if original_encoding == "identity":
        return body, None
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0), "gzip"


def categories(item_types: list[str]) -> set[str]:
    """The rate-limit categories an envelope's items fall in (client reports are never limited)."""
    return {CATEGORY_OF_ITEM.get(t, t) for t in item_types if t not in NEVER_LIMITED}


def otlp_request(raw: bytes) -> tuple[bytes, str]:
    """An OTLP request's body as it came (decompressed) and its content type: relay-mock stores it
    as the last item (`otlp_request`) of the envelope it makes of the request (ingest.py)."""
    items = parse_envelope(raw).items
    if not items or items[-1].header.get("type") != "otlp_request":
        raise ValueError("no otlp_request item in the stored OTLP request")
    return items[-1].payload, str(items[-1].header.get("content_type") or "application/x-protobuf")
