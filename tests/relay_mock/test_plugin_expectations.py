"""What `relay.verify(trace_id, expect=...)` records as the verifier's expectations: every form
it accepts, with the trace and the test's name filled in where they are left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from relay_mock.models import Expectation
from relay_mock.pytest_plugin import expectations_from

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_a_dict_gets_the_trace_and_the_scenario() -> None:
    [recorded] = expectations_from({"expect_services": ["shop"]}, TRACE.upper(), "test_x")

    assert recorded == Expectation(trace_id=TRACE, scenario="test_x", expect_services=["shop"])


def test_what_the_caller_names_wins_over_the_defaults() -> None:
    given = Expectation(trace_id="0" * 32, scenario="checkout", sampled=False)

    assert expectations_from([given], TRACE, "test_x") == [given]


@pytest.mark.parametrize(
    "content",
    [
        {"expect_services": ["shop"]},
        [{"expect_services": ["shop"]}],
        {"expectations": [{"expect_services": ["shop"]}]},
    ],
)
def test_a_json_file_holds_one_a_list_or_an_expectations_object(tmp_path: Path, content: object) -> None:
    path = tmp_path / "expect.json"
    path.write_text(json.dumps(content))

    for given in (path, str(path)):
        assert expectations_from(given, TRACE, "t") == [
            Expectation(trace_id=TRACE, scenario="t", expect_services=["shop"])
        ]


def test_a_field_of_the_wrong_type_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValidationError, match="expect_services"):
        expectations_from({"expect_services": "shop"}, TRACE, "t")
