"""The client for relay-mock's inspection API: `RelayClient` (blocking) and `AsyncRelayClient`,
on httpx, answering with the models of `relay_mock.models`.

    with RelayClient("http://127.0.0.1:9000") as relay:
        relay.wait("transaction", trace_id=trace_id)
        trace = relay.trace(trace_id)

Every route is described once, as a `Call` (method, path, parameters, how to read the answer);
the two clients only differ in how they send it. An answer that is not a success raises
`RelayError` with the API's `{detail, causes}`; an unreachable relay-mock raises httpx's
`TransportError`. The bearer token for an inspection API behind RELAY_INSPECT_TOKEN comes from
the `token` argument or that environment variable.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any, Generic, Literal, TypedDict, TypeVar, Unpack

import httpx
import orjson
from pydantic import BaseModel

from relay_mock.models import (
    ApiError,
    Envelope,
    EnvelopePage,
    ErrorDetail,
    ErrorPage,
    Expectation,
    FaultRule,
    Forwarding,
    ItemView,
    LeakReport,
    LogPage,
    MetricPage,
    Project,
    Refusal,
    Stats,
    Trace,
    TracePage,
    Verdict,
    WaitResult,
)

DEFAULT_URL = "http://127.0.0.1:9000"
DEFAULT_TIMEOUT_S = 30.0

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class ItemFilters(TypedDict, total=False):
    """The filters of `/inspect/envelopes`, `/inspect/wait` and the JSONL export, but the item type."""

    trace_id: str
    event_id: str
    project: str | int  # name or id
    release: str
    environment: str
    server_name: str
    since: float | str  # epoch seconds or ISO 8601
    until: float | str


class EnvelopeFilters(ItemFilters, total=False):
    type: str  # item type: transaction, event, session, client_report, span, log...
    forward: Literal["pending", "sent", "rejected", "expired", "none"]  # the list only: forwarding state


class RelayError(Exception):
    """relay-mock answered with an error: its status, `detail` and `causes`."""

    def __init__(self, status: int, detail: str, causes: list[str], *, method: str, url: str) -> None:
        super().__init__(f"{method} {url}: {status} {detail}" + (f" ({'; '.join(causes)})" if causes else ""))
        self.status = status
        self.detail = detail
        self.causes = causes

    @classmethod
    def from_response(cls, response: httpx.Response) -> RelayError:
        try:
            body = ApiError.model_validate_json(response.content)
            detail, causes = body.detail, body.causes
        except ValueError:
            detail, causes = response.text[:300] or response.reason_phrase, []
        return cls(response.status_code, detail, causes, method=response.request.method, url=str(response.url))


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request to the API and how to read its answer."""

    method: str
    path: str
    read: Callable[[httpx.Response], T]
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    # How long the route may hold the answer back on purpose (a wait, the verifier's deadline):
    # added to the client's read timeout.
    blocks_for: float = 0.0


def _model(model: type[M], key: str | None = None) -> Callable[[httpx.Response], M]:
    def read(response: httpx.Response) -> M:
        if key is None:
            return model.model_validate_json(response.content)
        return model.model_validate(orjson.loads(response.content)[key])

    return read


def _models(model: type[M], key: str) -> Callable[[httpx.Response], list[M]]:
    def read(response: httpx.Response) -> list[M]:
        return [model.model_validate(entry) for entry in orjson.loads(response.content)[key]]

    return read


def _bytes(response: httpx.Response) -> bytes:
    return response.content


def _nothing(response: httpx.Response) -> None:
    return None


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the unset ones; booleans as the API spells them."""
    return {
        name: ("true" if value else "false") if isinstance(value, bool) else value
        for name, value in values.items()
        if value is not None
    }


def _hex(value: str) -> str:
    return value.replace("-", "").lower()


class Calls:
    """Every route of the inspection API the clients call, as a `Call`."""

    @staticmethod
    def envelopes(
        *,
        limit: int = 50,
        cursor: int | None = None,
        order: Literal["desc", "asc"] = "desc",
        payloads: bool = True,
        filters: EnvelopeFilters,
    ) -> Call[EnvelopePage]:
        params = _params(**filters, limit=limit, cursor=cursor, order=order, payloads=payloads)
        return Call("GET", "/inspect/envelopes", _model(EnvelopePage), params)

    @staticmethod
    def envelope(envelope_id: str) -> Call[Envelope]:
        return Call("GET", f"/inspect/envelopes/{envelope_id}", _model(Envelope))

    @staticmethod
    def raw(envelope_id: str) -> Call[bytes]:
        return Call("GET", f"/inspect/envelopes/{envelope_id}/raw", _bytes)

    @staticmethod
    def wait(item_type: str | None, *, count: int, timeout: float, filters: ItemFilters) -> Call[WaitResult]:
        params = _params(**filters, type=item_type, count=count, timeout=timeout)
        return Call("GET", "/inspect/wait", _model(WaitResult), params, blocks_for=timeout)

    @staticmethod
    def traces(
        *,
        limit: int = 50,
        cursor: int | None = None,
        project: str | int | None = None,
        since: float | str | None = None,
    ) -> Call[TracePage]:
        params = _params(limit=limit, cursor=cursor, project=project, since=since)
        return Call("GET", "/inspect/traces", _model(TracePage), params)

    @staticmethod
    def trace(trace_id: str) -> Call[Trace]:
        return Call("GET", f"/inspect/traces/{_hex(trace_id)}", _model(Trace))

    @staticmethod
    def errors(
        *,
        limit: int = 50,
        cursor: int | None = None,
        project: str | int | None = None,
        trace_id: str | None = None,
        level: str | None = None,
        q: str | None = None,
    ) -> Call[ErrorPage]:
        params = _params(limit=limit, cursor=cursor, project=project, trace_id=trace_id, level=level, q=q)
        return Call("GET", "/inspect/errors", _model(ErrorPage), params)

    @staticmethod
    def error(event_id: str) -> Call[ErrorDetail]:
        return Call("GET", f"/inspect/errors/{_hex(event_id)}", _model(ErrorDetail))

    @staticmethod
    def stats() -> Call[Stats]:
        return Call("GET", "/inspect/stats", _model(Stats))

    @staticmethod
    def logs(**filters: Any) -> Call[LogPage]:
        """Sentry logs (filters: service, level, trace_id, q, since, until, cursor, limit)."""
        return Call("GET", "/inspect/logs", _model(LogPage), _params(**filters))

    @staticmethod
    def metrics(**filters: Any) -> Call[MetricPage]:
        """Metric points and aggregates (filters: name, type, service, trace_id, bucket, ...)."""
        return Call("GET", "/inspect/metrics", _model(MetricPage), _params(**filters))

    @staticmethod
    def item_view(envelope_id: str, index: int) -> Call[ItemView]:
        """One item as Sentry would store it (Relay's normalization and scrubbing, relay_view/)."""
        return Call("GET", f"/inspect/envelopes/{envelope_id}/items/{index}/relay", _model(ItemView))

    @staticmethod
    def leaks(*, limit: int = 100, project: str | None = None) -> Call[LeakReport]:
        """Items whose stored form would still hold something the scrubbing should have caught."""
        return Call("GET", "/inspect/leaks", _model(LeakReport), _params(limit=limit, project=project))

    @staticmethod
    def refusals(*, limit: int = 100) -> Call[list[Refusal]]:
        return Call("GET", "/inspect/refusals", _models(Refusal, "refusals"), _params(limit=limit))

    @staticmethod
    def forwarding() -> Call[Forwarding]:
        return Call("GET", "/inspect/forwarding", _model(Forwarding))

    @staticmethod
    def projects() -> Call[list[Project]]:
        return Call("GET", "/inspect/projects", _models(Project, "projects"))

    @staticmethod
    def faults() -> Call[list[FaultRule]]:
        return Call("GET", "/inspect/faults", _models(FaultRule, "rules"))

    @staticmethod
    def add_fault(rule: Mapping[str, Any]) -> Call[FaultRule]:
        return Call("POST", "/inspect/faults", _model(FaultRule), body=dict(rule))

    @staticmethod
    def remove_fault(rule_id: str) -> Call[None]:
        return Call("DELETE", f"/inspect/faults/{rule_id}", _nothing)

    @staticmethod
    def clear_faults() -> Call[None]:
        return Call("DELETE", "/inspect/faults", _nothing)

    @staticmethod
    def record_expectations(expectations: Iterable[Expectation | Mapping[str, Any]]) -> Call[int]:
        body = [e.model_dump(exclude_none=True) if isinstance(e, Expectation) else dict(e) for e in expectations]
        return Call(
            "POST",
            "/inspect/expectations",
            lambda r: int(orjson.loads(r.content)["recorded"]),
            body={"expectations": body},
        )

    @staticmethod
    def expectations(
        *,
        since: float | str | None = None,
        until: float | str | None = None,
        trace_id: str | None = None,
        limit: int | None = None,
    ) -> Call[list[Expectation]]:
        params = _params(since=since, until=until, trace_id=trace_id, limit=limit)
        return Call("GET", "/inspect/expectations", _models(Expectation, "expectations"), params)

    @staticmethod
    def verify(
        *,
        trace_id: str | None = None,
        since: float | str | None = None,
        until: float | str | None = None,
        deadline: float = 0.0,
        topology: Mapping[str, Any] | None = None,
    ) -> Call[Verdict]:
        params = _params(trace_id=_hex(trace_id) if trace_id else None, since=since, until=until, deadline=deadline)
        if topology is not None:
            # An expectations file's settings (relay_mock.verify.topology) travel in a POST body.
            body = {"expect": dict(topology)}
            return Call("POST", "/inspect/verify", _model(Verdict), params, body=body, blocks_for=deadline)
        return Call("GET", "/inspect/verify", _model(Verdict), params, blocks_for=deadline)

    @staticmethod
    def clear() -> Call[None]:
        return Call("DELETE", "/inspect/envelopes", _nothing)


def _settings(url: str | None, token: str | None) -> tuple[str, dict[str, str]]:
    base_url = (url or os.environ.get("RELAY_URL") or DEFAULT_URL).rstrip("/")
    token = token if token is not None else os.environ.get("RELAY_INSPECT_TOKEN")
    return base_url, ({"authorization": f"Bearer {token}"} if token else {})


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_error:
        raise RelayError.from_response(response)
    return response


def _request_options(call: Call[Any], timeout: httpx.Timeout) -> dict[str, Any]:
    options: dict[str, Any] = {"params": call.params}
    if call.body is not None:
        options["content"] = orjson.dumps(call.body)
        options["headers"] = {"content-type": "application/json"}
    if call.blocks_for and timeout.read is not None:
        options["timeout"] = httpx.Timeout(
            connect=timeout.connect, read=timeout.read + call.blocks_for, write=timeout.write, pool=timeout.pool
        )
    return options


def _sse_envelopes(lines: Iterable[str]) -> Iterator[Envelope]:
    for line in lines:
        if line.startswith("data:"):
            yield Envelope.model_validate_json(line[5:])


class RelayClient:
    """Blocking client. `http` is the underlying httpx.Client, for a route this does not cover."""

    def __init__(self, url: str | None = None, *, token: str | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.url, headers = _settings(url, token)
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def __enter__(self) -> RelayClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def call(self, call: Call[T]) -> T:
        response = self.http.request(call.method, call.path, **_request_options(call, self.http.timeout))
        return call.read(_checked(response))

    def envelopes(
        self,
        *,
        limit: int = 50,
        cursor: int | None = None,
        order: Literal["desc", "asc"] = "desc",
        payloads: bool = True,
        **filters: Unpack[EnvelopeFilters],
    ) -> EnvelopePage:
        """One page of envelopes matching the filters; pass `next_cursor` back for the next."""
        return self.call(Calls.envelopes(limit=limit, cursor=cursor, order=order, payloads=payloads, filters=filters))

    def iter_envelopes(
        self, *, order: Literal["desc", "asc"] = "asc", payloads: bool = True, **filters: Unpack[EnvelopeFilters]
    ) -> Iterator[Envelope]:
        """Every matching envelope, page after page (oldest first unless `order="desc"`)."""
        cursor: int | None = None
        while True:
            page = self.envelopes(limit=1000, cursor=cursor, order=order, payloads=payloads, **filters)
            yield from page.envelopes
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def envelope(self, envelope_id: str) -> Envelope:
        return self.call(Calls.envelope(envelope_id))

    def raw(self, envelope_id: str) -> bytes:
        """The envelope exactly as stored (decompressed)."""
        return self.call(Calls.raw(envelope_id))

    def wait(
        self, type: str | None = None, *, count: int = 1, timeout: float = 10.0, **filters: Unpack[ItemFilters]
    ) -> WaitResult:
        """Block in relay-mock until `count` items match (or `timeout` seconds pass); check `satisfied`."""
        return self.call(Calls.wait(type, count=count, timeout=timeout, filters=filters))

    def stream(self, *, project: str | None = None, type: str | None = None) -> Iterator[Envelope]:
        """Envelopes as they are stored (server-sent events, no payloads), until the caller stops."""
        params = _params(project=project, type=type)
        timeout = httpx.Timeout(self.http.timeout.connect, read=None)
        with self.http.stream("GET", "/inspect/stream", params=params, timeout=timeout) as response:
            if response.is_error:
                response.read()
                raise RelayError.from_response(response)
            yield from _sse_envelopes(response.iter_lines())

    def export(self, out: IO[bytes], **filters: Unpack[EnvelopeFilters]) -> int:
        """Write every matching envelope to `out` as JSON lines, oldest first; returns how many."""
        count = 0
        with self.http.stream("GET", "/inspect/envelopes.jsonl", params=_params(**filters)) as response:
            if response.is_error:
                response.read()
                raise RelayError.from_response(response)
            for chunk in response.iter_bytes():
                count += chunk.count(b"\n")
                out.write(chunk)
        return count

    def traces(
        self,
        *,
        limit: int = 50,
        cursor: int | None = None,
        project: str | int | None = None,
        since: float | str | None = None,
    ) -> TracePage:
        return self.call(Calls.traces(limit=limit, cursor=cursor, project=project, since=since))

    def trace(self, trace_id: str) -> Trace:
        """One trace as the UI shows it; RelayError 404 while nothing of it arrived."""
        return self.call(Calls.trace(trace_id))

    def errors(
        self,
        *,
        limit: int = 50,
        cursor: int | None = None,
        project: str | int | None = None,
        trace_id: str | None = None,
        level: str | None = None,
        q: str | None = None,
    ) -> ErrorPage:
        return self.call(Calls.errors(limit=limit, cursor=cursor, project=project, trace_id=trace_id, level=level, q=q))

    def error(self, event_id: str) -> ErrorDetail:
        return self.call(Calls.error(event_id))

    def stats(self) -> Stats:
        return self.call(Calls.stats())

    def logs(self, **filters: Any) -> LogPage:
        return self.call(Calls.logs(**filters))

    def metrics(self, **filters: Any) -> MetricPage:
        return self.call(Calls.metrics(**filters))

    def item_view(self, envelope_id: str, index: int) -> ItemView:
        return self.call(Calls.item_view(envelope_id, index))

    def leaks(self, *, limit: int = 100, project: str | None = None) -> LeakReport:
        return self.call(Calls.leaks(limit=limit, project=project))

    def refusals(self, *, limit: int = 100) -> list[Refusal]:
        return self.call(Calls.refusals(limit=limit))

    def projects(self) -> list[Project]:
        return self.call(Calls.projects())

    def forwarding(self) -> Forwarding:
        """What relay-mock forwards to a real Sentry, per project (the upstream key masked)."""
        return self.call(Calls.forwarding())

    def faults(self) -> list[FaultRule]:
        return self.call(Calls.faults())

    def add_fault(self, rule: Mapping[str, Any] | None = None, **fields: Any) -> FaultRule:
        """Add a fault rule (see relay_mock/faults.py): `add_fault(action="rate_limit", remaining=3)`."""
        return self.call(Calls.add_fault({**(rule or {}), **fields}))

    def remove_fault(self, rule_id: str) -> None:
        self.call(Calls.remove_fault(rule_id))

    def clear_faults(self) -> None:
        self.call(Calls.clear_faults())

    def record_expectations(self, expectations: Iterable[Expectation | Mapping[str, Any]]) -> int:
        return self.call(Calls.record_expectations(expectations))

    def expectations(
        self,
        *,
        since: float | str | None = None,
        until: float | str | None = None,
        trace_id: str | None = None,
        limit: int | None = None,
    ) -> list[Expectation]:
        return self.call(Calls.expectations(since=since, until=until, trace_id=trace_id, limit=limit))

    def verify(
        self,
        *,
        trace_id: str | None = None,
        since: float | str | None = None,
        until: float | str | None = None,
        deadline: float = 0.0,
        topology: Mapping[str, Any] | None = None,
    ) -> Verdict:
        """The trace verifier's report over the window (or one trace); `deadline`: seconds it may
        wait for expected traces still arriving; `topology`: an expectations file's settings
        (`relay-mock verify --expect`), judged instead of relay-mock's own."""
        return self.call(
            Calls.verify(trace_id=trace_id, since=since, until=until, deadline=deadline, topology=topology)
        )

    def clear(self) -> None:
        """Delete every stored envelope, refusal and expectation (fault rules stay)."""
        self.call(Calls.clear())


class AsyncRelayClient:
    """The same API for asyncio code. `http` is the underlying httpx.AsyncClient."""

    def __init__(self, url: str | None = None, *, token: str | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        self.url, headers = _settings(url, token)
        self.http = httpx.AsyncClient(base_url=self.url, headers=headers, timeout=timeout)

    async def __aenter__(self) -> AsyncRelayClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def call(self, call: Call[T]) -> T:
        response = await self.http.request(call.method, call.path, **_request_options(call, self.http.timeout))
        return call.read(_checked(response))

    async def envelopes(
        self,
        *,
        limit: int = 50,
        cursor: int | None = None,
        order: Literal["desc", "asc"] = "desc",
        payloads: bool = True,
        **filters: Unpack[EnvelopeFilters],
    ) -> EnvelopePage:
        return await self.call(
            Calls.envelopes(limit=limit, cursor=cursor, order=order, payloads=payloads, filters=filters)
        )

    async def iter_envelopes(
        self, *, order: Literal["desc", "asc"] = "asc", payloads: bool = True, **filters: Unpack[EnvelopeFilters]
    ) -> AsyncIterator[Envelope]:
        cursor: int | None = None
        while True:
            page = await self.envelopes(limit=1000, cursor=cursor, order=order, payloads=payloads, **filters)
            for envelope in page.envelopes:
                yield envelope
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def envelope(self, envelope_id: str) -> Envelope:
        return await self.call(Calls.envelope(envelope_id))

    async def raw(self, envelope_id: str) -> bytes:
        return await self.call(Calls.raw(envelope_id))

    async def wait(
        self, type: str | None = None, *, count: int = 1, timeout: float = 10.0, **filters: Unpack[ItemFilters]
    ) -> WaitResult:
        return await self.call(Calls.wait(type, count=count, timeout=timeout, filters=filters))

    async def stream(self, *, project: str | None = None, type: str | None = None) -> AsyncIterator[Envelope]:
        params = _params(project=project, type=type)
        timeout = httpx.Timeout(self.http.timeout.connect, read=None)
        async with self.http.stream("GET", "/inspect/stream", params=params, timeout=timeout) as response:
            if response.is_error:
                await response.aread()
                raise RelayError.from_response(response)
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    yield Envelope.model_validate_json(line[5:])

    async def export(self, out: IO[bytes], **filters: Unpack[EnvelopeFilters]) -> int:
        count = 0
        async with self.http.stream("GET", "/inspect/envelopes.jsonl", params=_params(**filters)) as response:
            if response.is_error:
                await response.aread()
                raise RelayError.from_response(response)
            async for chunk in response.aiter_bytes():
                count += chunk.count(b"\n")
                out.write(chunk)
        return count

    async def traces(
        self,
        *,
        limit: int = 50,
        cursor: int | None = None,
        project: str | int | None = None,
        since: float | str | None = None,
    ) -> TracePage:
        return await self.call(Calls.traces(limit=limit, cursor=cursor, project=project, since=since))

    async def trace(self, trace_id: str) -> Trace:
        return await self.call(Calls.trace(trace_id))

    async def errors(
        self,
        *,
        limit: int = 50,
        cursor: int | None = None,
        project: str | int | None = None,
        trace_id: str | None = None,
        level: str | None = None,
        q: str | None = None,
    ) -> ErrorPage:
        return await self.call(
            Calls.errors(limit=limit, cursor=cursor, project=project, trace_id=trace_id, level=level, q=q)
        )

    async def error(self, event_id: str) -> ErrorDetail:
        return await self.call(Calls.error(event_id))

    async def stats(self) -> Stats:
        return await self.call(Calls.stats())

    async def logs(self, **filters: Any) -> LogPage:
        return await self.call(Calls.logs(**filters))

    async def metrics(self, **filters: Any) -> MetricPage:
        return await self.call(Calls.metrics(**filters))

    async def item_view(self, envelope_id: str, index: int) -> ItemView:
        return await self.call(Calls.item_view(envelope_id, index))

    async def leaks(self, *, limit: int = 100, project: str | None = None) -> LeakReport:
        return await self.call(Calls.leaks(limit=limit, project=project))

    async def refusals(self, *, limit: int = 100) -> list[Refusal]:
        return await self.call(Calls.refusals(limit=limit))

    async def projects(self) -> list[Project]:
        return await self.call(Calls.projects())

    async def forwarding(self) -> Forwarding:
        return await self.call(Calls.forwarding())

    async def faults(self) -> list[FaultRule]:
        return await self.call(Calls.faults())

    async def add_fault(self, rule: Mapping[str, Any] | None = None, **fields: Any) -> FaultRule:
        return await self.call(Calls.add_fault({**(rule or {}), **fields}))

    async def remove_fault(self, rule_id: str) -> None:
        await self.call(Calls.remove_fault(rule_id))

    async def clear_faults(self) -> None:
        await self.call(Calls.clear_faults())

    async def record_expectations(self, expectations: Iterable[Expectation | Mapping[str, Any]]) -> int:
        return await self.call(Calls.record_expectations(expectations))

    async def expectations(
        self,
        *,
        since: float | str | None = None,
        until: float | str | None = None,
        trace_id: str | None = None,
        limit: int | None = None,
    ) -> list[Expectation]:
        return await self.call(Calls.expectations(since=since, until=until, trace_id=trace_id, limit=limit))

    async def verify(
        self,
        *,
        trace_id: str | None = None,
        since: float | str | None = None,
        until: float | str | None = None,
        deadline: float = 0.0,
        topology: Mapping[str, Any] | None = None,
    ) -> Verdict:
        return await self.call(
            Calls.verify(trace_id=trace_id, since=since, until=until, deadline=deadline, topology=topology)
        )

    async def clear(self) -> None:
        await self.call(Calls.clear())
