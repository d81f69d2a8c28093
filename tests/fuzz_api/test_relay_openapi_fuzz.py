"""relay-mock's inspection API fuzzed with schemathesis (its CLI, as for the services) against
its own `/inspect/openapi.json`, on a relay-mock started as a local process: no 5xx, only
documented status codes and content types, responses that match their models, invalid input
refused with 4xx, valid input accepted, 405 with `Allow` for undeclared methods.

`/inspect/stream` is left out: an event stream never ends (tests/relay_http/test_live.py covers it)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.support.relay_server import REPO, RelayMock

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayMock]:
    with RelayMock(tmp_path_factory.mktemp("relay")) as server:
        yield server


def schemathesis_run(
    schema: str, base_url: str, report: Path, *, max_examples: int, only: str | None = None
) -> subprocess.CompletedProcess[str]:
    selection = ["--include-path", only] if only else ["--exclude-path", "/inspect/stream"]
    return subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "run", schema, "--url", base_url,
            "--checks", "all",
            *selection,
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(max_examples),
            "--seed", "20261129",
            "--generation-database", "none",
            # One worker: see tests/fuzz_api/test_openapi_fuzz.py (CPython gh-106905).
            "--workers", "1",
            "--report", "junit", "--report-junit-path", str(report),
        ],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "SCHEMATHESIS_HOOKS": "tests.fuzz_api.relay_hooks", "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip


def test_the_inspection_api_survives_fuzzing_of_its_own_schema(relay: RelayMock, tmp_path: Path) -> None:
    result = schemathesis_run(f"{relay.url}/inspect/openapi.json", relay.url, tmp_path / "st.xml", max_examples=25)

    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]


def test_the_fuzzing_fails_when_the_schema_promises_more_than_the_api_does(relay: RelayMock, tmp_path: Path) -> None:
    # A schema that allows `limit` up to 20000 where relay-mock answers 400 above 10000.
    schema = httpx.get(f"{relay.url}/inspect/openapi.json").json()
    (limit,) = [p for p in schema["paths"]["/inspect/refusals"]["get"]["parameters"] if p["name"] == "limit"]
    limit["schema"]["maximum"] = 20_000
    lying = tmp_path / "openapi.json"
    lying.write_bytes(orjson.dumps(schema))

    result = schemathesis_run(str(lying), relay.url, tmp_path / "st.xml", max_examples=10, only="/inspect/refusals")

    assert result.returncode != 0
    assert "Schema-valid request rejected" in result.stdout, result.stdout[-3000:]


def test_an_undeclared_method_gets_405_naming_the_path_s_methods(relay: RelayMock) -> None:
    response = httpx.put(f"{relay.url}/inspect/expectations")

    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert response.json()["detail"] == "Method Not Allowed"


def test_the_docs_page_is_served_without_anything_from_elsewhere(relay: RelayMock) -> None:
    response = httpx.get(f"{relay.url}/inspect/docs")

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "/inspect/verify" in response.text and "<script" not in response.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/inspect/envelopes?payloads=-58800", 400),
        ("/inspect/envelopes?order=sideways", 400),
        ("/inspect/metrics?series=maybe", 400),
        ("/inspect/envelopes/x/items/739233675381024120865424408576/relay", 404),
    ],
)
def test_what_the_fuzzing_found_is_refused_with_its_reason(relay: RelayMock, path: str, status: int) -> None:
    response = httpx.get(f"{relay.url}{path}")

    assert response.status_code == status, response.text
    assert set(response.json()) == {"detail", "causes"}


def test_a_verify_body_that_is_not_an_object_is_refused(relay: RelayMock) -> None:
    response = httpx.post(f"{relay.url}/inspect/verify", json=[])

    assert response.status_code == 400
    assert "not an object" in response.json()["detail"]
