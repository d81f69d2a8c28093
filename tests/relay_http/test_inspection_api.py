"""The inspection API over HTTP: envelope filters and cursors, one envelope and its raw bytes,
JSONL export, deleting everything, traces built from the real SDK in two processes, errors
with stack frames, statistics, and 400s naming a bad query parameter.

These test the API's own answers (statuses, bytes, the JSON as sent), so they talk raw HTTP
(`inspector.get`, `inspector.http`) rather than through relay_mock.client's models."""

from __future__ import annotations

import base64
import gzip
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import brotli
import httpx
import orjson
import pytest
import zstandard

from relay_mock.inspection.operations import OPERATIONS
from tests.relay_http.inspector import Inspector
from tests.relay_http.sdk import run_sdk
from tests.relay_http.wire import (
    API,
    DOWNSTREAM,
    PLAYGROUND,
    Project,
    client_report,
    envelope,
    event,
    event_envelope,
    item,
    new_id,
    post_envelope,
    transaction,
)
from tests.support.relay_server import RelayMock

# ---------------------------------------------------------------- a store holding known envelopes

Seed = dict[str, Any]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seed]:
    """A relay-mock of its own holding exactly these envelopes, sent in two batches:

    first:  e1 event        api         shop@1.0   production  web-1     trace T1
            t1 transaction  api         shop@1.0   production  web-1     trace T1
            e2 event        downstream  stock@2.0  staging     worker-1  trace T2
    second: t2 transaction  downstream  stock@2.0  staging     worker-1  trace T1
            e3 event        playground  shop@1.0   production  web-2     trace T3
            r1 client_report api: 3 errors lost to queue_overflow, 2 transactions to ratelimit_backoff
            r2 client_report downstream: 1 error lost to queue_overflow
    """
    traces = {name: new_id() for name in ("T1", "T2", "T3")}
    shop = {"release": "shop@1.0", "environment": "production", "server_name": "web-1"}
    stock = {"release": "stock@2.0", "environment": "staging", "server_name": "worker-1"}

    def error(trace: str, **fields: Any) -> dict[str, Any]:
        return event(contexts={"trace": {"trace_id": traces[trace], "span_id": new_id()[:16]}}, **fields)

    first: dict[str, tuple[Project, bytes | dict[str, Any]]] = {
        "e1": (API, error("T1", **shop)),
        "t1": (API, transaction(traces["T1"], **shop)),
        "e2": (DOWNSTREAM, error("T2", **stock)),
    }
    second: dict[str, tuple[Project, bytes | dict[str, Any]]] = {
        "t2": (DOWNSTREAM, transaction(traces["T1"], "POST /reservations", **stock)),
        "e3": (PLAYGROUND, error("T3", **{**shop, "server_name": "web-2"})),
        "r1": (API, client_report(("queue_overflow", "error", 3), ("ratelimit_backoff", "transaction", 2))),
        "r2": (DOWNSTREAM, client_report(("queue_overflow", "error", 1))),
    }
    with RelayMock(tmp_path_factory.mktemp("seeded"), env={}) as relay, httpx.Client(timeout=30) as http:
        ids: dict[str, str] = {}

        def send(batch: dict[str, tuple[Project, bytes | dict[str, Any]]]) -> None:
            for name, (project, content) in batch.items():
                if isinstance(content, bytes):
                    body = content
                else:
                    body = envelope(item(content.get("type", "event"), content), event_id=content["event_id"])
                response = post_envelope(http, relay.url, body, project=project)
                assert response.status_code == 200, response.text
                ids[name] = response.headers["x-relay-mock-envelope"]

        send(first)
        between = time.time()
        send(second)
        event_ids = {name: c["event_id"] for name, (_, c) in {**first, **second}.items() if isinstance(c, dict)}
        yield {"relay": relay, "ids": ids, "traces": traces, "between": between, "event_ids": event_ids}


def matching(seed: Seed, **filters: Any) -> set[str]:
    """Names of the seeded envelopes that /inspect/envelopes lists for the filters."""
    with Inspector(seed["relay"].url) as inspector:
        found = {envelope["id"] for envelope in inspector.envelopes(**filters)}
    return {name for name, envelope_id in seed["ids"].items() if envelope_id in found}


FILTERS: dict[str, tuple[Callable[[Seed], dict[str, Any]], set[str]]] = {
    "type event": (lambda s: {"type": "event"}, {"e1", "e2", "e3"}),
    "type transaction": (lambda s: {"type": "transaction"}, {"t1", "t2"}),
    "type client_report": (lambda s: {"type": "client_report"}, {"r1", "r2"}),
    "trace id": (lambda s: {"trace_id": s["traces"]["T1"]}, {"e1", "t1", "t2"}),
    "event id": (lambda s: {"event_id": s["event_ids"]["e2"]}, {"e2"}),
    "project name": (lambda s: {"project": "playground"}, {"e3"}),
    "project id": (lambda s: {"project": "2"}, {"e2", "t2", "r2"}),
    "release": (lambda s: {"release": "shop@1.0"}, {"e1", "t1", "e3"}),
    "environment": (lambda s: {"environment": "staging"}, {"e2", "t2"}),
    "server name": (lambda s: {"server_name": "web-1"}, {"e1", "t1"}),
    "since": (lambda s: {"since": s["between"]}, {"t2", "e3", "r1", "r2"}),
    "until": (lambda s: {"until": s["between"]}, {"e1", "t1", "e2"}),
    "since as ISO 8601": (
        lambda s: {"since": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s["between"] + 3600)) + "Z"},
        set(),
    ),
    "type and project together": (lambda s: {"type": "event", "project": "api"}, {"e1"}),
}


@pytest.mark.parametrize("name", FILTERS)
def test_envelope_filters_select_exactly_the_matching_envelopes(seeded: Seed, name: str) -> None:
    filters, expected = FILTERS[name]

    assert matching(seeded, **filters(seeded)) == expected


def test_stats_count_items_by_type_and_envelopes_by_project(seeded: Seed) -> None:
    with Inspector(seeded["relay"].url) as inspector:
        stats = inspector.stats()

    assert stats["items_by_type"] == {"event": 3, "transaction": 2, "client_report": 2}
    assert {name: p["envelopes"] for name, p in stats["by_project"].items()} == {
        "api": 3,
        "downstream": 3,
        "playground": 1,
    }
    assert stats["envelopes"]["stored"] == 7


def test_stats_add_up_what_client_reports_say_was_lost_by_reason_and_category(seeded: Seed) -> None:
    with Inspector(seeded["relay"].url) as inspector:
        reports = inspector.stats()["client_reports"]

    assert reports["total"] == 6
    assert reports["by_reason"] == {"queue_overflow": 4, "ratelimit_backoff": 2}
    assert reports["by_category"] == {"error": 4, "transaction": 2}
    assert reports["by_project"]["downstream"] == [{"reason": "queue_overflow", "category": "error", "quantity": 1}]


# ---------------------------------------------------------------- listing, one envelope, raw, export


def send_events(relay: RelayMock, http: httpx.Client, count: int, release: str) -> list[str]:
    """`count` events of one release, one after the other; returns their envelope ids."""
    ids = []
    for _ in range(count):
        response = post_envelope(http, relay.url, event_envelope(event(release=release))[1])
        assert response.status_code == 200
        ids.append(response.headers["x-relay-mock-envelope"])
    return ids


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_cursor_pagination_lists_every_envelope_exactly_once(
    relay: RelayMock, inspector: Inspector, http: httpx.Client, order: str
) -> None:
    release = f"paged@{new_id()}"
    sent = send_events(relay, http, 23, release)

    listed: list[str] = []
    cursor = None
    while True:
        page = inspector.get("/inspect/envelopes", release=release, order=order, limit=5, cursor=cursor)
        listed += [envelope["id"] for envelope in page["envelopes"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert listed == (sent if order == "asc" else sent[::-1])


def test_one_envelope_shows_its_headers_and_decoded_payloads(
    relay: RelayMock, inspector: Inspector, http: httpx.Client
) -> None:
    body = event(release=f"one@{new_id()}", tags={"customer": "acme"})
    attachment = b"\xff\xfe minidump"  # not UTF-8: shown as base64
    sent = envelope(item("event", body), item("attachment", attachment, filename="dump.bin"), event_id=body["event_id"])
    envelope_id = post_envelope(http, relay.url, sent).headers["x-relay-mock-envelope"]

    shown = inspector.get(f"/inspect/envelopes/{envelope_id}")

    assert shown["header"] == {"event_id": body["event_id"]}
    assert [i["header"] for i in shown["items"]] == [
        {"type": "event", "length": len(orjson.dumps(body))},
        {"type": "attachment", "length": len(attachment), "filename": "dump.bin"},
    ]
    assert shown["items"][0]["payload"]["tags"] == {"customer": "acme"}
    assert shown["items"][1]["payload"] == {"base64": base64.b64encode(attachment).decode()}


def test_an_unknown_envelope_is_a_404_in_the_error_shape(inspector: Inspector) -> None:
    response = inspector.http.get(f"/inspect/envelopes/{new_id()}")

    assert response.status_code == 404
    assert set(response.json()) == {"detail", "causes"}


ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "identity": lambda data: data,
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": zstandard.ZstdCompressor().compress,
}


@pytest.mark.parametrize("encoding", ENCODERS)
def test_raw_bytes_are_the_envelope_as_sent_after_decompression(
    relay: RelayMock, inspector: Inspector, http: httpx.Client, encoding: str
) -> None:
    # No trailing newline and an item without length: stored byte for byte, not re-serialised.
    original = b'{"event_id":"%s"}\n{"type":"event"}\n{"message":"raw %s"}' % (new_id().encode(), encoding.encode())
    response = post_envelope(http, relay.url, ENCODERS[encoding](original), headers={"Content-Encoding": encoding})
    assert response.status_code == 200, response.text

    raw = inspector.http.get(f"/inspect/envelopes/{response.headers['x-relay-mock-envelope']}/raw")

    assert raw.content == original
    assert raw.headers["content-type"] == "application/x-sentry-envelope"


def test_jsonl_export_has_one_envelope_per_line_oldest_first(
    relay: RelayMock, inspector: Inspector, http: httpx.Client
) -> None:
    release = f"export@{new_id()}"
    sent = send_events(relay, http, 7, release)

    response = inspector.http.get("/inspect/envelopes.jsonl", params={"release": release})

    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [orjson.loads(line) for line in response.content.splitlines()]
    assert [line["id"] for line in lines] == sent
    assert all(line["items"][0]["payload"]["release"] == release for line in lines)


def test_delete_forgets_every_envelope_and_refusal(start_relay: Callable[..., RelayMock], http: httpx.Client) -> None:
    relay = start_relay()
    send_events(relay, http, 3, "doomed@1")
    post_envelope(http, relay.url, b"not an envelope")
    with Inspector(relay.url) as inspector:
        inspector.wait_refusals(1)

        response = inspector.http.delete("/inspect/envelopes")

        assert response.json() == {"deleted": True}
        assert inspector.envelopes() == []
        assert inspector.refusals() == []
        assert inspector.stats()["envelopes"]["stored"] == 0


# ---------------------------------------------------------------- traces and errors from the real SDK


@pytest.fixture(scope="module")
def hop(relay: RelayMock) -> dict[str, Any]:
    """api → downstream: two SDK processes, the second continuing the first's trace."""
    return run_sdk(API.dsn(relay.url), "head", downstream_dsn=DOWNSTREAM.dsn(relay.url))


@pytest.fixture(scope="module")
def orphan(relay: RelayMock) -> dict[str, Any]:
    """The same hop, but the downstream process continues from a span the api never sent."""
    return run_sdk(API.dsn(relay.url), "head", downstream_dsn=DOWNSTREAM.dsn(relay.url), orphan=True)


def test_a_trace_across_two_services_is_listed_complete(inspector: Inspector, hop: dict[str, Any]) -> None:
    inspector.wait("transaction", count=2, trace_id=hop["trace_id"])

    [summary] = [t for t in inspector.get("/inspect/traces", limit=500)["traces"] if t["trace_id"] == hop["trace_id"]]

    assert summary["services"] == ["api", "downstream"]
    assert (summary["transactions"], summary["complete"], summary["broken_links"]) == (2, True, 0)
    assert summary["dsc_consistent"] is True
    assert summary["root"] == "POST /orders"


def test_a_trace_tree_hangs_the_downstream_transaction_off_the_callers_http_span(
    inspector: Inspector, hop: dict[str, Any]
) -> None:
    inspector.wait("transaction", count=2, trace_id=hop["trace_id"])

    trace = inspector.get(f"/inspect/traces/{hop['trace_id']}")

    [root] = trace["roots"]
    assert (root["service"], root["description"], root["span_id"]) == ("api", "POST /orders", hop["head_span"])
    [call] = root["children"]
    assert (call["op"], call["span_id"]) == ("http.client", hop["http_client_span"])
    [downstream] = call["children"]
    assert (downstream["kind"], downstream["service"], downstream["description"]) == (
        "transaction",
        "downstream",
        "POST /reservations",
    )
    assert downstream["parent_span_id"] == hop["http_client_span"] == hop["hop"]["parent_span_id"]
    assert downstream["broken"] is None


def test_a_transaction_continuing_an_unknown_span_is_marked_as_a_broken_link(
    inspector: Inspector, orphan: dict[str, Any]
) -> None:
    inspector.wait("transaction", count=2, trace_id=orphan["trace_id"])

    trace = inspector.get(f"/inspect/traces/{orphan['trace_id']}")

    assert trace["complete"] is False
    broken = {root["service"]: root["broken"] for root in trace["roots"]}
    assert broken["api"] is None
    assert f"hangs on span {orphan['hop']['parent_span_id']}, which is not in the trace" in broken["downstream"]
    # The page shows the verifier's verdict and findings for the trace: the same code. The call
    # was answered, by a transaction hung on the wrong span: one finding, not two.
    assert trace["verification"]["verdict"] == "failed"
    assert [f["kind"] for f in trace["verification"]["findings"]] == ["orphan"]
    assert [link["reason"] for link in trace["broken_links"]] == [broken["downstream"]]


def test_errors_are_listed_and_shown_with_their_stack_frames(relay: RelayMock, inspector: Inspector) -> None:
    card = new_id()[:8]
    sent = run_sdk(API.dsn(relay.url), "error", card=card)

    [listed] = inspector.get("/inspect/errors", q=card)["errors"]
    detail = inspector.get(f"/inspect/errors/{listed['event_id']}")

    assert listed["event_id"] == sent["errors"][0]
    assert (listed["type"], listed["value"]) == ("PaymentDeclined", f"card {card} declined for 42 EUR")
    frames = detail["exceptions"][-1]["stacktrace"]["frames"]
    assert [frame["function"] for frame in frames][-3:] == ["error", "checkout", "charge"]
    assert detail["trace_id"] == detail["contexts"]["trace"]["trace_id"]


# ---------------------------------------------------------------- bad query parameters

BAD_PARAMETERS = [
    ("/inspect/envelopes", {"limit": "many"}, "limit"),
    ("/inspect/envelopes", {"limit": "0"}, "limit"),
    ("/inspect/envelopes", {"cursor": "-1"}, "cursor"),
    ("/inspect/envelopes", {"trace_id": "not-hex"}, "trace_id"),
    ("/inspect/envelopes", {"event_id": "1234"}, "event_id"),
    ("/inspect/envelopes", {"since": "yesterday"}, "since"),
    ("/inspect/envelopes", {"until": "2026-13-45"}, "until"),
    ("/inspect/envelopes.jsonl", {"since": "soon"}, "since"),
    ("/inspect/errors", {"trace_id": "xyz"}, "trace_id"),
    ("/inspect/traces", {"limit": "501"}, "limit"),
    ("/inspect/traces/not-a-trace-id", {}, "trace_id"),
    ("/inspect/wait", {"timeout": "forever"}, "timeout"),
    ("/inspect/wait", {"count": "0"}, "count"),
    ("/inspect/refusals", {"limit": "lots"}, "limit"),
]


@pytest.mark.parametrize(("path", "params", "name"), BAD_PARAMETERS, ids=[f"{p} {n}" for p, _, n in BAD_PARAMETERS])
def test_a_bad_query_parameter_is_a_400_naming_it(
    inspector: Inspector, path: str, params: dict[str, str], name: str
) -> None:
    response = inspector.http.get(path, params=params)

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == f"invalid query parameter {name}"
    assert body["causes"], "the cause says what was expected"


# ---------------------------------------------------------------- the operations table's bounds


def _bounded_parameters() -> list[tuple[str, str, float]]:
    """Every numeric query parameter the table bounds, with a value just out of each bound."""
    found = []
    for op in OPERATIONS:
        if op.method != "GET" or "{" in op.path:
            continue
        for param in op.params:
            schema = param.schema
            if param.where != "query" or schema.get("type") not in ("integer", "number"):
                continue
            step = 1 if schema["type"] == "integer" else 0.0005
            for bound, outside in (("minimum", -step), ("maximum", step)):
                if bound in schema:
                    found.append((op.path, param.name, schema[bound] + outside))
    return found


BOUNDED = _bounded_parameters()


@pytest.mark.parametrize(("path", "name", "value"), BOUNDED, ids=[f"{p} {n}={v}" for p, n, v in BOUNDED])
def test_the_operations_table_bounds_are_the_ones_enforced(
    inspector: Inspector, path: str, name: str, value: float
) -> None:
    """The bounds /inspect/openapi.json declares are the bounds the routes hold to: the table is
    what runs, so a bound changed there changes both."""
    response = inspector.http.get(path, params={name: str(value)})

    assert response.status_code == 400, response.text
    assert response.json()["detail"] == f"invalid query parameter {name}"


def test_an_omitted_expect_services_is_stored_as_the_model_declares(inspector: Inspector) -> None:
    """Issue 22: models.Expectation promised a default `expect_services` (the sandbox's api and
    downstream) that the validator that ran stored as `[]`. Resolved for `[]`, declared on the
    model, which is now the validator: what a GET gives back is the declared default."""
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    response = inspector.http.post("/inspect/expectations", json=[{"trace_id": trace_id, "scenario": "defaults"}])
    assert response.status_code == 200, response.text

    (stored,) = inspector.get("/inspect/expectations", trace_id=trace_id)["expectations"]
    declared = inspector.get("/inspect/openapi.json")["components"]["schemas"]["Expectation"]["properties"]

    assert stored["expect_services"] == declared["expect_services"]["default"] == []
    assert stored["expect_errors_from"] == declared["expect_errors_from"]["default"] == []
    assert stored["sampled"] is declared["sampled"]["default"] is True
    assert stored["propagation"] == declared["propagation"]["default"] == "sentry"
