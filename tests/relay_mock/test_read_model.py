"""The read side builds each shape once: an envelope is the same whether the live feed shows it
as it is committed or a list reads it back from the store, and an error event says the same
thing in its item title, the error list and the verifier's facts."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

from relay_mock.ingest import IngestRequest, build_record
from relay_mock.live import feed_entry
from relay_mock.models import LiveEnvelope, as_json
from relay_mock.settings import RelaySettings, load_projects
from relay_mock.store.database import connect
from relay_mock.store.envelopes import get_envelope, list_envelopes
from relay_mock.store.error_events import get_error, list_errors
from relay_mock.store.filters import EnvelopeFilter
from relay_mock.store.records import EnvelopeRecord
from relay_mock.store.writer import StoreWriter
from relay_mock.verify.collect import collect
from tests.support.projects import API

pytestmark = pytest.mark.anyio
PUBLIC_KEY = API.key  # project 1 of the default projects
TRACE = "c" * 32
DEADLINE_S = 10


def envelope(*items: tuple[dict[str, Any], bytes]) -> bytes:
    lines = [orjson.dumps({"trace": {"trace_id": TRACE, "public_key": PUBLIC_KEY}})]
    for header, payload in items:
        lines += [orjson.dumps({**header, "length": len(payload)}), payload]
    return b"\n".join(lines) + b"\n"


def event(event_id: str, **fields: Any) -> tuple[dict[str, Any], bytes]:
    body = {"event_id": event_id, "contexts": {"trace": {"trace_id": TRACE, "span_id": "1" * 16}}, **fields}
    return {"type": "event"}, orjson.dumps(body)


ERROR_ID, MESSAGE_ID = "e" * 32, "f" * 32
BODIES = [
    envelope(
        event(ERROR_ID, exception={"values": [{"type": "KeyError", "value": "sku"}, {"type": "ValueError"}]}),
        ({"type": "attachment", "filename": "a.bin"}, b"\x00\xff binary"),
    ),
    envelope(event(MESSAGE_ID, message="stock ran out", tags=[["sku", "A-1"]])),
]


def records(settings: RelaySettings) -> list[EnvelopeRecord]:
    return [
        build_record(
            load_projects({}),
            settings,
            IngestRequest(
                project_part="1",
                path="/api/1/envelope/",
                headers={"x-sentry-auth": f"Sentry sentry_key={PUBLIC_KEY}, sentry_version=7"},
                query_string="",
                body=body,
                received_at=1_800_000_000.0 + n,
            ),
            endpoint="envelope",
        )
        for n, body in enumerate(BODIES)
    ]


@pytest.fixture
async def stored(tmp_path: Path) -> tuple[RelaySettings, list[EnvelopeRecord]]:
    settings = RelaySettings(data_dir=tmp_path)
    writer = StoreWriter(settings.database_path, retention_max_envelopes=100, retention_max_bytes=10**9)
    writer.start()
    committed = records(settings)
    try:
        for record in committed:
            await asyncio.wait_for(writer.append(record), DEADLINE_S)
    finally:
        await writer.close()
    return settings, committed


async def test_the_live_feed_and_the_list_show_an_envelope_alike(
    stored: tuple[RelaySettings, list[EnvelopeRecord]],
) -> None:
    settings, committed = stored
    conn = connect(settings.database_path, readonly=True)
    page = list_envelopes(conn, EnvelopeFilter(), limit=10, cursor=None, newest_first=False, payloads=False)

    listed = [as_json(entry) for entry in page.envelopes]

    assert listed == [orjson.loads(feed_entry(record).json) for record in committed]
    # The feed's bytes, dumped once for all subscribers, are the ones the list's JSON gives.
    assert [feed_entry(record).json for record in committed] == [orjson.dumps(entry) for entry in listed]
    lagged = feed_entry(committed[0]).lagged()
    assert orjson.loads(lagged.json) == {**listed[0], "lagged": True}
    # What the OpenAPI document (and the UI's generated types) say a stream event's data is.
    event = LiveEnvelope.model_validate_json(lagged.json)
    assert event.lagged is True and as_json(event) == orjson.loads(lagged.json)
    # Listed without payloads, an item has no header or payload at all (not nulls).
    assert all("payload" not in item and "header" not in item for entry in listed for item in entry["items"])


async def test_one_envelope_adds_each_items_header_and_payload(
    stored: tuple[RelaySettings, list[EnvelopeRecord]],
) -> None:
    settings, committed = stored
    conn = connect(settings.database_path, readonly=True)

    found = get_envelope(conn, committed[0].envelope_id)

    assert found is not None
    shown = as_json(found)
    assert [item["title"] for item in shown["items"]] == ["ValueError", "a.bin"]
    assert shown["items"][0]["payload"]["event_id"] == ERROR_ID
    assert shown["items"][1]["payload"] == {"base64": "AP8gYmluYXJ5"}
    assert shown["items"][1]["header"]["filename"] == "a.bin"


async def test_an_error_says_the_same_in_the_list_the_event_and_the_verifiers_facts(
    stored: tuple[RelaySettings, list[EnvelopeRecord]],
) -> None:
    settings, _ = stored
    conn = connect(settings.database_path, readonly=True)

    errors = {
        e.event_id: e
        for e in list_errors(conn, limit=10, cursor=None, project=None, trace_id=None, level=None, query=None).errors
    }
    facts = {e.event_id: e for b in collect(conn, since=None, until=None, trace_id=TRACE).bundles for e in b.errors}
    detail = get_error(conn, MESSAGE_ID)

    # The last exception is the headline; its value may be missing.
    assert (errors[ERROR_ID].type, errors[ERROR_ID].value, errors[ERROR_ID].message) == ("ValueError", None, None)
    assert (facts[ERROR_ID].exception_type, facts[ERROR_ID].message) == ("ValueError", None)
    # No exception: the message is the headline.
    assert (errors[MESSAGE_ID].type, errors[MESSAGE_ID].message) == (None, "stock ran out")
    assert (facts[MESSAGE_ID].exception_type, facts[MESSAGE_ID].message) == (None, "stock ran out")
    assert detail is not None
    # The event's own tags, as the SDK sent them ([key, value] pairs); the index keeps an object.
    assert as_json(detail)["tags"] == [["sku", "A-1"]]
    assert errors[MESSAGE_ID].tags == {"sku": "A-1"}
