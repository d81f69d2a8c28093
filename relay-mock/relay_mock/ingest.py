"""The ingest endpoints, as a plain ASGI application on the hot path:

    POST /api/{project_id}/envelope/     (trailing slash optional)
    POST /api/{project_id}/store/        (legacy: one JSON event)
    POST /stream                         (Spotlight's sidecar: no credentials; spotlight/attribution.py)
    POST /api/{project_id}/integration/otlp/v1/traces/   (OTLP/HTTP spans; slash optional)
    POST /api/{project_id}/integration/otlp/v1/logs/     (OTLP/HTTP logs; slash optional)

An OTLP request is stored as one record of the same store: its spans as v2 `span` items and
its logs as `log` items (protocol/otlp.py), beside the request body as it came.

A request is answered 200 only after its envelope is committed to disk. Every refusal
gets Relay's JSON body ({"detail", "causes"}) and is recorded with its reason.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from relay_mock.faults import FaultRule, FaultRules
from relay_mock.protocol import otlp
from relay_mock.protocol.auth import Auth, auth_from_dsn, auth_from_request
from relay_mock.protocol.decoding import decode_body, normalise_encoding
from relay_mock.protocol.envelope import Envelope, envelope_from_event, parse_envelope
from relay_mock.protocol.ingest_errors import (
    AuthError,
    IngestError,
    MalformedEnvelope,
    PayloadTooLarge,
    ProjectRejected,
)
from relay_mock.settings import Project, RelaySettings
from relay_mock.spotlight.attribution import attribute
from relay_mock.store.index import ItemIndex, envelope_trace_id, index_envelope
from relay_mock.store.records import EnvelopeRecord, RefusalRecord
from relay_mock.store.writer import StoreWriter

logger = logging.getLogger(__name__)

# ASCII digits only, and few enough for a 64-bit id: str.isdigit() accepts "²", which int() refuses.
_DIGITS = re.compile(r"[0-9]{1,18}")
# Bodies above this are decoded and parsed in a worker thread, so a large (or hostile) one
# cannot stall every other request on the event loop.
INLINE_BODY_MAX = 64 * 1024

INGEST_PATH = re.compile(r"^/api/(?P<project>[^/]+)/(?P<endpoint>envelope|store)/?$")
OTLP_PATH = re.compile(r"^/api/(?P<project>[^/]+)/integration/otlp/v1/(?P<signal>traces|logs)/?$")
# Spotlight's ingest path: what the SDKs' `spotlight` option (SENTRY_SPOTLIGHT) posts to.
STREAM_PATH = "/stream"

# Browser SDKs post cross-origin; Relay answers them with permissive CORS.
CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", b"x-sentry-error, x-sentry-rate-limits, retry-after"),
]
# Only what a preflight adds: `_respond` sends CORS_HEADERS with every answer, and a repeated
# `Access-Control-Allow-Origin` ("*, *") makes browsers block the request that follows.
PREFLIGHT_HEADERS = [
    (b"access-control-allow-methods", b"POST, OPTIONS"),
    (
        b"access-control-allow-headers",
        b"content-type, content-encoding, x-sentry-auth, authorization, sentry-trace, baggage",
    ),
    (b"access-control-max-age", b"3600"),
]


class InjectedFault(IngestError):
    """A refusal a fault rule asked for."""


class IngestApp:
    def __init__(
        self, settings: RelaySettings, projects: dict[int, Project], writer: StoreWriter, faults: FaultRules
    ) -> None:
        self.settings = settings
        self.projects = projects
        self.writer = writer
        self.faults = faults
        # Ingest requests being handled now: the forwarder yields to ingest while there are many.
        self.in_flight = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        match = INGEST_PATH.match(scope["path"]) or OTLP_PATH.match(scope["path"])
        if match is None and scope["path"] != STREAM_PATH:
            await _respond(send, 404, {"detail": "not found", "causes": [f"no ingest endpoint at {scope['path']}"]})
            return
        method = scope["method"]
        if method == "OPTIONS":
            await _respond(send, 200, None, PREFLIGHT_HEADERS)
            return
        if method != "POST":
            await _respond(send, 405, {"detail": "method not allowed", "causes": ["ingest endpoints take POST"]})
            return
        self.in_flight += 1
        try:
            await self._ingest(scope, receive, send, match)
        finally:
            self.in_flight -= 1

    async def _ingest(self, scope: dict[str, Any], receive: Any, send: Any, match: re.Match[str] | None) -> None:
        received_at = time.time()
        headers = _headers(scope)
        context: dict[str, Any] = {"path": scope["path"], "headers": headers, "received_at": received_at}
        project_id = _maybe_int(scope["path"])
        try:
            if self.faults:
                verdict = self.faults.before_body(project_id)
                if verdict.latency_ms:
                    await asyncio.sleep(verdict.latency_ms / 1000)
                if verdict.rule is not None:
                    # Read the body all the same (the client sends it anyway), so the refusal
                    # can record what it refused: the verifier matches losses by item type.
                    context["body"] = await self._read_body(receive, headers)
                if verdict.rule is not None and verdict.rule.action == "drop":
                    self._refuse(_injected(verdict.rule), scope, context)
                    await _drop_connection(send)
                    return
                if verdict.rule is not None:
                    raise _injected(verdict.rule)
            body = context["body"] = await self._read_body(receive, headers)
            context["size"] = len(body)
            request = IngestRequest(
                path=scope["path"],
                headers=headers,
                body=body,
                received_at=received_at,
                project_part=match["project"] if match is not None else "",
                query_string=scope.get("query_string", b"").decode("latin-1"),
                remote_addr=_client(scope),
            )
            converted: otlp.Converted | None = None
            if match is not None and match.re is OTLP_PATH:
                build_otlp = functools.partial(
                    build_otlp_record, self.projects, self.settings, request, signal=match["signal"]
                )
                record, converted = (
                    build_otlp() if len(body) <= INLINE_BODY_MAX else await asyncio.to_thread(build_otlp)
                )
            else:
                build = functools.partial(
                    build_record,
                    self.projects,
                    self.settings,
                    request,
                    endpoint=match["endpoint"] if match is not None else "stream",
                )
                record = build() if len(body) <= INLINE_BODY_MAX else await asyncio.to_thread(build)
            context.update(
                project_id=record.project_id, public_key=record.public_key, item_types=[i.type for i in record.items]
            )
            if self.faults:
                limited = self.faults.after_parse(record.project_id, [item.type for item in record.items])
                if limited is not None:
                    raise _injected(limited)
            await self.writer.append(record)
        except IngestError as exc:
            self._refuse(exc, scope, context)
            extra = [(b"x-sentry-error", exc.detail.encode("latin-1", "replace"))]
            rule = getattr(exc, "rule", None)
            if rule is not None and rule.action == "rate_limit":
                extra += [
                    (b"retry-after", str(rule.retry_after).encode()),
                    (b"x-sentry-rate-limits", rule.rate_limit_header()),
                ]
            await _respond(send, exc.status, exc.body(), extra)
            return
        except Exception:
            logger.exception("storing an envelope failed")
            await _respond(send, 503, {"detail": "store unavailable", "causes": ["the envelope was not stored; retry"]})
            return
        stored = [(b"x-relay-mock-envelope", record.envelope_id.encode())]
        if converted is not None:
            await _respond_raw(send, 200, otlp.response_body(converted), converted.content_type, stored)
            return
        answer = {"id": record.event_id} if record.event_id else {}
        await _respond(send, 200, answer, stored)

    async def _read_body(self, receive: Any, headers: dict[str, str]) -> bytes:
        limit = self.settings.max_compressed_bytes
        declared = headers.get("content-length")
        if declared and _DIGITS.fullmatch(declared) and int(declared) > limit:
            raise PayloadTooLarge(
                "request body exceeds the size limit",
                f"Content-Length {declared} > {limit}",
                reason="too_large_compressed",
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise IngestError(
                    "client disconnected", "the body did not arrive whole", status=400, reason="disconnected"
                )
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(
                    "request body exceeds the size limit", f"more than {limit} bytes", reason="too_large_compressed"
                )
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _refused_types(self, scope: dict[str, Any], context: dict[str, Any]) -> str | None:
        if context.get("item_types") is not None:
            return orjson.dumps(context["item_types"]).decode()
        otlp_match = OTLP_PATH.match(scope["path"])
        if otlp_match is not None:  # what a refused OTLP request would have become
            return orjson.dumps(["span" if otlp_match["signal"] == "traces" else "log"]).decode()
        body = context.get("body")
        if not body:
            return None
        match = INGEST_PATH.match(scope["path"])
        return _item_types(
            body,
            context["headers"].get("content-encoding"),
            store=match is not None and match["endpoint"] == "store",
            max_size=self.settings.max_envelope_bytes,
        )

    def _refuse(self, exc: IngestError, scope: dict[str, Any], context: dict[str, Any]) -> None:
        headers = context["headers"]
        detail = exc.detail + (f": {'; '.join(exc.causes)}" if exc.causes else "")
        try:
            self.writer.record_refusal(
                RefusalRecord(
                    received_at=context["received_at"],
                    status=exc.status,
                    reason=exc.reason,
                    injected=isinstance(exc, InjectedFault),
                    detail=detail[:1000],
                    project_id=context.get("project_id") or _maybe_int(scope["path"]),
                    public_key=context.get("public_key"),
                    path=context["path"][:500],
                    size=context.get("size"),
                    user_agent=headers.get("user-agent"),
                    remote_addr=_client(scope),
                    item_types=self._refused_types(scope, context),
                )
            )
        except RuntimeError:
            logger.warning("refusal not recorded (store closing): %s", detail)


def _item_types(body: bytes, encoding: str | None, *, store: bool, max_size: int) -> str | None:
    """The JSON list of the item types in a refused body, or None when it cannot be parsed."""
    try:
        raw = decode_body(body, normalise_encoding(encoding), max_size=max_size)
        if store:
            return orjson.dumps(["transaction" if orjson.loads(raw).get("type") == "transaction" else "event"]).decode()
        return orjson.dumps([item.type for item in parse_envelope(raw).items]).decode()
    except (IngestError, ValueError, AttributeError):  # malformed: the refusal says nothing about what it lost
        return None


def _injected(rule: FaultRule) -> InjectedFault:
    status = 429 if rule.action == "rate_limit" else rule.status
    fault = InjectedFault(
        f"injected fault {rule.id}", rule.describe(), status=status or 502, reason=f"injected_{rule.action}"
    )
    fault.rule = rule  # type: ignore[attr-defined]
    return fault


async def _drop_connection(send: Any) -> None:
    """Close the socket without an answer, as a crashed or unreachable ingest would.

    ASGI has no message for this, so reach the server's transport (uvicorn keeps it on the
    object behind `send`); let the loop run the close before returning to the server.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("cannot drop the connection on this server")  # the server answers 500 instead
    transport.abort()
    for _ in range(10):
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0)


@dataclass(frozen=True)
class IngestRequest:
    """What ingest reads of one HTTP request, whichever endpoint it came to."""

    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes  # as sent (still compressed)
    received_at: float
    project_part: str = ""  # the `{project}` of `/api/{project}/...` ("" on Spotlight's /stream)
    query_string: str = ""
    remote_addr: str | None = None


def build_record(
    projects: dict[int, Project], settings: RelaySettings, request: IngestRequest, *, endpoint: str
) -> EnvelopeRecord:
    """Everything ingest does short of storing: project, auth, decoding, parsing, indexing.

    Pure (no I/O), so it can be fuzzed: any input yields a record or an IngestError.
    """
    if endpoint == "stream":
        return _stream_record(projects, settings, request)
    headers, body = request.headers, request.body
    project_id = _project_id(request.project_part)
    _project(projects, project_id)
    auth = auth_from_request(headers, request.query_string)
    encoding = normalise_encoding(headers.get("content-encoding"))
    if endpoint == "store":
        # One event per request: Relay holds the whole body to the per-event limit.
        raw = _store_to_envelope(decode_body(body, encoding, max_size=settings.max_event_bytes))
    else:
        raw = decode_body(body, encoding, max_size=settings.max_envelope_bytes)
    envelope = parse_envelope(raw)
    if auth is None:
        dsn = envelope.header.get("dsn")
        if not dsn:
            raise AuthError(
                "missing authorization",
                "send X-Sentry-Auth, Authorization, ?sentry_key= or a dsn in the envelope header",
            )
        auth = auth_from_dsn(dsn)
    project = _authorise(projects, project_id, auth)
    items = index_envelope(envelope, max_event_bytes=settings.max_event_bytes)
    return EnvelopeRecord(
        received_at=request.received_at,
        project_id=project.id,
        project=project.name,
        public_key=auth.public_key,
        auth_form=auth.form,
        sdk_client=auth.client,
        endpoint=endpoint,
        path=request.path,
        content_encoding=encoding,
        compressed_size=len(request.body),
        raw=raw,
        header=envelope.header,
        items=items,
        user_agent=request.headers.get("user-agent"),
        remote_addr=request.remote_addr,
        event_id=_event_id(envelope),
        trace_id=envelope_trace_id(envelope, items),
    )


def build_otlp_record(
    projects: dict[int, Project], settings: RelaySettings, request: IngestRequest, *, signal: str
) -> tuple[EnvelopeRecord, otlp.Converted]:
    """An OTLP/HTTP request as a record of the store, and what it converted (for the answer).

    The record holds an envelope relay-mock writes itself: a header saying where it came from,
    the spans (one `span` item per trace) or logs as container items, and last an
    `otlp_request` item with the request body as it came (decompressed), which /raw serves.
    Pure, like build_record.
    """
    headers, body, received_at = request.headers, request.body, request.received_at
    project_id = _project_id(request.project_part)
    _project(projects, project_id)
    auth = auth_from_request(headers, request.query_string)
    if auth is None:
        raise AuthError(
            "missing authorization",
            "send X-Sentry-Auth: Sentry sentry_key=<public key>, Authorization: Sentry ... or ?sentry_key=",
        )
    project = _authorise(projects, project_id, auth)
    content_type = otlp.media_type(headers.get("content-type"))
    encoding = normalise_encoding(headers.get("content-encoding"))
    decoded = decode_body(body, encoding, max_size=min(settings.max_envelope_bytes, otlp.MAX_DECODED_BYTES))
    converted = otlp.convert(signal, content_type, decoded, received_at=received_at)
    header: dict[str, Any] = {
        "otlp": {
            "signal": signal,
            "content_type": content_type,
            "accepted": converted.accepted,
            "rejected": converted.rejected,
        }
    }
    if converted.rejected:
        header["otlp"]["error_message"] = converted.error_message
    # The envelope's bytes and its index, written together (the records are relay-mock's own:
    # parsing and checking them again would double the cost of an OTLP request).
    parts = [orjson.dumps(header)]
    items: list[ItemIndex] = []
    offset = len(parts[0]) + 1
    containers = otlp.container_items(converted)
    for idx, (item_header, payload, records) in enumerate(containers):
        head = orjson.dumps({**item_header, "length": len(payload)})
        offset += len(head) + 1
        parts += [head, payload]
        entry = ItemIndex(idx=idx, type=item_header["type"], offset=offset, length=len(payload), records=records)
        entry.summary = {"item_count": len(records), "content_type": item_header["content_type"]}
        if entry.type == "span":
            entry.trace_id = records[0].trace_id  # one item per trace (otlp.container_items)
            entry.start_ts = min(r.timestamp for r in records)
            entry.end_ts = max(r.timestamp + (r.value or 0.0) / 1000 for r in records)
        items.append(entry)
        offset += len(payload) + 1
    head = orjson.dumps({"type": "otlp_request", "content_type": content_type, "length": len(decoded)})
    parts += [head, decoded]
    offset += len(head) + 1
    items.append(ItemIndex(idx=len(containers), type="otlp_request", offset=offset, length=len(decoded)))
    raw = b"\n".join(parts)
    record = EnvelopeRecord(
        received_at=request.received_at,
        project_id=project.id,
        project=project.name,
        public_key=auth.public_key,
        auth_form=auth.form,
        sdk_client=auth.client,
        endpoint=f"otlp_{signal}",
        path=request.path,
        content_encoding=encoding,
        compressed_size=len(request.body),
        raw=raw,
        header=header,
        items=items,
        user_agent=request.headers.get("user-agent"),
        remote_addr=request.remote_addr,
        trace_id=next((item.trace_id for item in items if item.trace_id), None),
    )
    return record, converted


def _project_id(project_part: str) -> int:
    if not _DIGITS.fullmatch(project_part):
        raise ProjectRejected(
            "invalid project id", f"{project_part[:40]!r} is not a number", status=400, reason="invalid_project"
        )
    return int(project_part)


def _stream_record(projects: dict[int, Project], settings: RelaySettings, request: IngestRequest) -> EnvelopeRecord:
    """An envelope posted to Spotlight's `/stream`: decoded and parsed under the same limits as
    `/api/<id>/envelope/`, no credentials asked, stored as the project its header names when
    relay-mock knows the key, else as the `spotlight` project."""
    encoding = normalise_encoding(request.headers.get("content-encoding"))
    raw = decode_body(request.body, encoding, max_size=settings.max_envelope_bytes)
    envelope = parse_envelope(raw)
    project, public_key = attribute(projects, envelope.header)
    items = index_envelope(envelope, max_event_bytes=settings.max_event_bytes)
    return EnvelopeRecord(
        received_at=request.received_at,
        project_id=project.id,
        project=project.name,
        public_key=public_key,
        auth_form="spotlight",
        sdk_client=_header_sdk(envelope.header),
        endpoint="stream",
        path=request.path,
        content_encoding=encoding,
        compressed_size=len(request.body),
        raw=raw,
        header=envelope.header,
        items=items,
        user_agent=request.headers.get("user-agent"),
        remote_addr=request.remote_addr,
        event_id=_event_id(envelope),
        trace_id=envelope_trace_id(envelope, items),
    )


def _header_sdk(header: dict[str, Any]) -> str | None:
    """`name/version` from the envelope header's `sdk` (what X-Sentry-Auth's sentry_client says on /envelope/)."""
    sdk = header.get("sdk")
    if isinstance(sdk, dict) and isinstance(sdk.get("name"), str):
        version = sdk.get("version")
        return f"{sdk['name']}/{version}" if isinstance(version, str) else sdk["name"]
    return None


def _project(projects: dict[int, Project], project_id: int) -> Project:
    project = projects.get(project_id)
    if project is None:
        known = ", ".join(f"{p.id} ({p.name})" for p in projects.values())
        raise ProjectRejected(f"unknown project {project_id}", f"configured projects: {known}")
    return project


def _authorise(projects: dict[int, Project], project_id: int, auth: Auth) -> Project:
    project = _project(projects, project_id)
    if auth.public_key != project.public_key:
        owner = next((p for p in projects.values() if p.public_key == auth.public_key), None)
        cause = (
            f"that key belongs to project {owner.id} ({owner.name})"
            if owner
            else f"no configured project has the key {auth.public_key[:64]!r}"
        )
        raise AuthError(f"public key is not a key of project {project_id}", cause, reason="unknown_key")
    return project


def _store_to_envelope(raw: bytes) -> bytes:
    try:
        event = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedEnvelope("store body is not valid JSON", str(exc)) from None
    if not isinstance(event, dict):
        raise MalformedEnvelope("store body is not a JSON object", f"got {type(event).__name__}")
    return envelope_from_event(event)


def _event_id(envelope: Envelope) -> str | None:
    event_id = envelope.event_id
    return uuid.UUID(event_id).hex if event_id else None


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _client(scope: dict[str, Any]) -> str | None:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else None


def _maybe_int(path: str) -> int | None:
    match = INGEST_PATH.match(path) or OTLP_PATH.match(path)
    return int(match["project"]) if match and _DIGITS.fullmatch(match["project"]) else None


async def _respond(
    send: Any, status: int, body: dict[str, Any] | None, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = orjson.dumps(body) if body is not None else b""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *CORS_HEADERS,
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _respond_raw(
    send: Any, status: int, payload: bytes, content_type: str, extra: list[tuple[bytes, bytes]]
) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(payload)).encode()),
        *CORS_HEADERS,
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
