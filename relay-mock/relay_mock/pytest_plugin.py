"""A pytest plugin for testing your own services against a running relay-mock.

`pip install ./relay-mock` registers it (entry point `pytest11`). It adds the option
`--relay-url` (else the environment's RELAY_URL, else http://127.0.0.1:9000) and the fixture
`relay`: give your service `relay.dsn("<project>")`, exercise it, then `relay.wait_for(...)` what
its SDK sent, `relay.trace(...)` and `relay.verify(...)`. docs/testing-your-service.md walks
through an example. Nothing here needs the sandbox: only relay-mock's HTTP API.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from relay_mock.client import DEFAULT_URL, EnvelopeFilters, RelayClient
from relay_mock.dsn import build_dsn
from relay_mock.models import Envelope, Expectation, Item, Trace, Verdict
from relay_mock.served import ServedRequest, served_requests

# How much of what did arrive a failed wait lists.
ARRIVED_SHOWN = 20
REFUSALS_SHOWN = 5

ExpectArg = Expectation | Mapping[str, Any] | str | Path | Sequence[Expectation | Mapping[str, Any]]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("relay-mock", "testing services against relay-mock")
    group.addoption(
        "--relay-url",
        default=None,
        help=f"relay-mock's address (default: $RELAY_URL, else {DEFAULT_URL})",
    )


class Relay:
    """What a test asks relay-mock. `client` is the full `RelayClient` for anything else."""

    def __init__(self, client: RelayClient) -> None:
        self.client = client
        self.url = client.url

    def clear(self) -> None:
        """Forget every stored envelope, refusal and expectation, and every fault rule."""
        self.client.clear()
        self.client.clear_faults()

    def dsn(self, project: str | int) -> str:
        """A DSN for a project relay-mock accepts (name or id), at the address the tests reach it."""
        projects = self.client.projects()
        for candidate in projects:
            if str(project) in (candidate.name, str(candidate.id)):
                return build_dsn(self.url, candidate.public_key, candidate.id)
        known = ", ".join(f"{p.name} (id {p.id})" for p in projects) or "none"
        pytest.fail(
            f"relay-mock at {self.url} has no project {project!r}; it knows: {known}. "
            "Configure one with RELAY_PROJECT_<NAME>=http://<public key>@host/<id>.",
            pytrace=False,
        )

    def wait_for(
        self,
        type: str | None = None,
        *,
        trace_id: str | None = None,
        project: str | int | None = None,
        count: int = 1,
        timeout: float = 10.0,
        **filters: str,
    ) -> list[Item]:
        """Block until relay-mock holds `count` items of `type` (in envelopes matching the other
        filters: trace_id, project, release, environment, event_id, server_name, since, until)
        and return them, payloads parsed, oldest first. At the deadline the test fails with an
        account of what did arrive."""
        wanted: dict[str, Any] = {
            name: value for name, value in {"trace_id": trace_id, "project": project, **filters}.items() if value
        }
        result = self.client.wait(type, count=count, timeout=timeout, **wanted)
        if not result.satisfied:
            pytest.fail(self._missing(type, wanted, count, timeout, result.count), pytrace=False)
        listing = cast(EnvelopeFilters, {**wanted, **({"type": type} if type else {})})
        return [
            item
            for envelope in self.client.iter_envelopes(**listing)
            for item in envelope.items
            if type is None or item.type == type
        ]

    def wait_for_request(
        self,
        *,
        trace_id: str | None = None,
        project: str | int | None = None,
        name: str | None = None,
        count: int = 1,
        timeout: float = 10.0,
        **filters: str,
    ) -> list[ServedRequest]:
        """Block until relay-mock holds `count` requests a service served (matching `name` when
        given, in envelopes matching the other filters) and return them, oldest first.

        A served request is a `transaction` item, or the segment span of a `span` item: what
        sentry-python 3.x (span streaming) sends instead. Waiting for the request, not for a
        transaction, keeps a test working across that upgrade. At the deadline the test fails
        with an account of what did arrive."""
        wanted: dict[str, Any] = {
            key: value for key, value in {"trace_id": trace_id, "project": project, **filters}.items() if value
        }
        deadline = time.monotonic() + timeout
        while True:
            # Read what is there, then block in relay-mock until one more matching item arrives.
            arrived = self.client.wait(None, count=1, timeout=0, **wanted).count
            found = [
                request
                for envelope in self.client.iter_envelopes(**cast(EnvelopeFilters, wanted))
                for request in served_requests(envelope)
                if name is None or request.name == name
            ]
            remaining = deadline - time.monotonic()
            if len(found) >= count:
                return found
            if remaining <= 0:
                what = "served request(s)" + (f" named {name!r}" if name else "")
                pytest.fail(self._missing(None, wanted, count, timeout, len(found), what=what), pytrace=False)
            self.client.wait(None, count=arrived + 1, timeout=remaining, **wanted)

    def trace(self, trace_id: str) -> Trace:
        """The trace as relay-mock's UI shows it: every service's transactions and spans as a tree,
        broken links, errors. Raises RelayError (404) while nothing of it arrived."""
        return self.client.trace(trace_id)

    def verify(self, trace_id: str, *, expect: ExpectArg | None = None, deadline: float = 10.0) -> Verdict:
        """The trace verifier's verdict on one trace.

        `expect` says what the trace must hold, recorded as the verifier's expectation first
        (POST /inspect/expectations): an `Expectation`, a dict of its fields (`expect_services`,
        `expect_errors_from`, `sampled`, ...; `trace_id` and `scenario` default to this trace and
        the test), a list of them, or the path of a JSON file holding one, a list, or
        `{"expectations": [...]}`. With an expectation the verifier waits up to `deadline`
        seconds for the expected transactions before it judges.
        """
        if expect is not None:
            self.client.record_expectations(expectations_from(expect, trace_id, _current_test()))
        return self.client.verify(trace_id=trace_id, deadline=deadline)

    def _missing(
        self,
        type: str | None,
        wanted: dict[str, Any],
        count: int,
        timeout: float,
        found: int,
        *,
        what: str = "item(s)",
    ) -> str:
        what = f"{count} {type + ' ' if type else ''}{what}" + "".join(f" {k}={v}" for k, v in wanted.items())
        lines = [f"relay-mock at {self.url}: waited {timeout:g} s for {what}; {found} matched."]
        page = self.client.envelopes(limit=ARRIVED_SHOWN, payloads=False)
        if not page.envelopes:
            lines.append("Nothing arrived at all: is the service's DSN pointing at this relay-mock?")
        else:
            tally = Counter((e.project.name, t) for e in page.envelopes for t in e.item_types)
            lines.append(
                f"What did arrive (newest {len(page.envelopes)} envelopes): "
                + ", ".join(f"{n} {t} from {p}" for (p, t), n in sorted(tally.items(), key=str))
            )
            lines += [f"  {_describe(envelope)}" for envelope in page.envelopes]
        refusals = self.client.refusals(limit=REFUSALS_SHOWN)
        if refusals:
            lines.append("relay-mock refused (newest first):")
            lines += [f"  {r.status} {r.reason}: {r.detail} (project {r.project_id})" for r in refusals]
        return "\n".join(lines)


def _describe(envelope: Envelope) -> str:
    items = ", ".join(f"{item.type}" + (f" {item.title!r}" if item.title else "") for item in envelope.items)
    trace = f" trace {envelope.trace_id}" if envelope.trace_id else ""
    return f"{envelope.received_at} project {envelope.project.name} (id {envelope.project.id}):{trace} {items}"


def expectations_from(expect: ExpectArg, trace_id: str, scenario: str) -> list[Expectation]:
    if isinstance(expect, (str, Path)):
        loaded = json.loads(Path(expect).read_text())
        entries = loaded.get("expectations", loaded) if isinstance(loaded, dict) else loaded
        return expectations_from(entries if isinstance(entries, list) else [entries], trace_id, scenario)
    if isinstance(expect, (Expectation, Mapping)):
        expect = [expect]
    defaults = {"trace_id": trace_id.replace("-", "").lower(), "scenario": scenario}
    return [
        Expectation.model_validate(
            {**defaults, **(e.model_dump(exclude_none=True) if isinstance(e, Expectation) else e)}
        )
        for e in expect
    ]


def _current_test() -> str:
    # pytest names the running test in this variable: "path::name (call)".
    return os.environ.get("PYTEST_CURRENT_TEST", "pytest").rsplit(" ", 1)[0]


@pytest.fixture(scope="session")
def relay_client(pytestconfig: pytest.Config) -> Iterator[RelayClient]:
    """One client for the session, at --relay-url / RELAY_URL; fails early if relay-mock is not there."""
    url = pytestconfig.getoption("relay_url") or os.environ.get("RELAY_URL") or DEFAULT_URL
    with RelayClient(url) as client:
        try:
            client.projects()
        except httpx.TransportError as exc:
            pytest.fail(f"cannot reach relay-mock at {url} (--relay-url / RELAY_URL): {exc}", pytrace=False)
        yield client


@pytest.fixture
def relay(relay_client: RelayClient) -> Relay:
    """relay-mock, for one test: clear(), dsn(), wait_for(), trace(), verify()."""
    return Relay(relay_client)
