"""What Sentry itself would store: relay-mock runs every event, transaction and feedback item
through Relay's own normalization and data scrubbing (sentry_relay), in the background, and
answers `GET /inspect/envelopes/{id}/items/{n}/relay` with what changed and which rule did it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk

from tests.relay_http.inspector import Inspector, poll
from tests.relay_http.wire import API, new_id
from tests.support.relay_server import RelayMock

# A test card number (Visa's); it passes the Luhn check, as a real one would.
CARD = "4111 1111 1111 1111"


@pytest.fixture
def sdk(relay: RelayMock) -> Iterator[None]:
    sentry_sdk.init(dsn=API.dsn(relay.url), traces_sample_rate=1.0, default_integrations=False)
    try:
        yield
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
        sentry_sdk.get_isolation_scope().clear()
        sentry_sdk.get_current_scope().clear()


def send_card_and_url_transaction(marker: str) -> None:
    """The real SDK: an error event with a card number in `extra`, a transaction named by its URL."""
    with sentry_sdk.new_scope() as scope:
        scope.set_extra("payment_card", CARD)
        scope.set_tag("marker", marker)
        sentry_sdk.capture_message(f"checkout failed {marker}")
    with sentry_sdk.start_transaction(name="/items/123", op="http.server", source="url") as transaction:
        transaction.set_tag("marker", marker)
    sentry_sdk.flush(timeout=10)


def item_of(inspector: Inspector, item_type: str, marker: str) -> tuple[str, int]:
    def find() -> tuple[str, int] | None:
        for envelope in inspector.get("/inspect/envelopes", type=item_type, project="api")["envelopes"]:
            for index, item in enumerate(envelope["items"]):
                if (
                    item["header"].get("type") == item_type
                    and (item["payload"].get("tags") or {}).get("marker") == marker
                ):
                    return envelope["id"], index
        return None

    return poll(find, deadline_s=20, what=f"the SDK's {item_type}")


def relay_view(inspector: Inspector, envelope_id: str, index: int) -> dict[str, Any]:
    return dict(inspector.get(f"/inspect/envelopes/{envelope_id}/items/{index}/relay"))


def test_a_card_number_in_extra_is_filtered_by_relays_creditcard_rule(sdk: None, inspector: Inspector) -> None:
    marker = new_id()
    send_card_and_url_transaction(marker)

    view = relay_view(inspector, *item_of(inspector, "event", marker))

    assert set(view) >= {"normalized", "stored", "meta", "errors"}
    assert view["normalized"]["extra"]["payment_card"] == CARD  # normalization keeps it; scrubbing does not
    assert view["stored"]["extra"]["payment_card"] == "[Filtered]"
    [remark] = view["meta"]["extra"]["payment_card"][""]["rem"]
    assert remark[0] == "@creditcard:filter"
    [change] = [c for c in view["changes"] if c["path"] == "extra.payment_card"]
    assert (change["rules"], change["stage"]) == (["@creditcard:filter"], "scrubbing")
    assert view["verdict"] == "ok" and view["errors"] == []


def test_a_url_named_transaction_is_sanitized_to_a_pattern(sdk: None, inspector: Inspector) -> None:
    marker = new_id()
    send_card_and_url_transaction(marker)

    view = relay_view(inspector, *item_of(inspector, "transaction", marker))

    assert view["normalized"]["transaction"] == "/items/*"
    assert view["stored"]["transaction"] == "/items/*"
    assert view["stored"]["transaction_info"]["source"] == "sanitized"
    assert view["meta"]["transaction"][""]["val"] == "/items/123"
    [change] = [c for c in view["changes"] if c["path"] == "transaction"]
    assert change["original"] == "/items/123" and change["stage"] == "normalization"
