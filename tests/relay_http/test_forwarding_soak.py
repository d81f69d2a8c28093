"""The soak with forwarding on (issue 19), at a size CI affords: `make soak FORWARD=1` runs the
same code at the full size. Two forwarded projects at a steady rate, the upstream a second
relay-mock over HTTP answering some forwards with 503, 400 and 429 by its own fault rules, an
outage longer than RELAY_FORWARD_MAX_AGE so that some expire: at the end, per project,
sent + rejected + expired + pending = what the senders saw acknowledged, and the upstream's
store holds every envelope counted sent."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bench.soak_forwarding import Soak, check, report, run


@pytest.fixture(scope="module")
def soaked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work: Path = tmp_path_factory.mktemp("forwarding-soak")
    return run(Soak(rate=300, duration_s=15, work=work, max_age_s=3, quiet=True))


def test_the_books_balance_per_project_through_429_5xx_4xx_and_expiry(soaked: dict[str, Any]) -> None:
    print(report(soaked))
    assert check(soaked) == [], report(soaked)
    for books in soaked["projects"].values():
        assert books["client"]["acknowledged"] == 15 * 300 // 2
        assert books["forwarding"]["pending"] == 0


def _tampered(result: dict[str, Any], project: str, **forwarding: Any) -> dict[str, Any]:
    changed = copy.deepcopy(result)
    changed["projects"][project]["forwarding"].update(forwarding)
    return changed


def test_the_check_rejects_books_that_do_not_balance(soaked: dict[str, Any]) -> None:
    """The checker, given the real result with one figure off, names what is wrong."""
    api = soaked["projects"]["api"]["forwarding"]
    # A rejection not counted (the answer still is): the books are one short.
    [lost] = check(
        _tampered(soaked, "api", rejected=api["rejected"] - 1, statuses={**api["statuses"], "400": api["rejected"] - 1})
    )
    assert lost.startswith("api: sent") and "not the 2250 acknowledged" in lost
    # One more counted sent (and one fewer expired) than the upstream holds.
    down = soaked["projects"]["downstream"]["forwarding"]
    stored = soaked["projects"]["downstream"]["upstream_stored"]
    [missing] = check(
        _tampered(
            soaked,
            "downstream",
            sent=stored + 1,
            expired=down["expired"] - (stored + 1 - down["sent"]),
            statuses={**down["statuses"], "200": stored + 1},
        )
    )
    assert "the upstream stored" in missing
    never = copy.deepcopy(soaked)
    never["projects"]["api"]["forwarding"]["statuses"].pop("429")
    assert any("never caused status 429" in p for p in check(never))
    undrained = copy.deepcopy(soaked)
    undrained["drained_after_s"] = None
    assert check(undrained) == ["the backlog was not empty by the deadline"]
