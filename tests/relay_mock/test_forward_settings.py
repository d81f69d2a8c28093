"""RELAY_FORWARD is checked at start: a bad value stops relay-mock naming the variable and the
entry, and never echoes the DSN's key; plain http only to loopback and the compose services.
Also the pure parts the forwarder relies on: the header rewrite and the rate-limit header."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from relay_mock.forwarding.limits import ALL, parse_rate_limits
from relay_mock.forwarding.rewrite import rewrite
from relay_mock.settings import DEFAULT_PROJECTS, Upstream, load_forwarding, load_projects

KEY = "feedfacefeedfacefeedfacefeedface"
PROJECTS = load_projects({})
REPO = Path(__file__).resolve().parents[2]


def forwarding(value: object) -> dict[int, Upstream]:
    return dict(load_forwarding(value if isinstance(value, str) else orjson.dumps(value).decode(), PROJECTS))


def refusal(value: object) -> str:
    with pytest.raises(SystemExit) as raised:
        forwarding(value)
    message = str(raised.value)
    assert "RELAY_FORWARD" in message
    assert KEY not in message, message
    return message


def test_off_when_unset_or_empty() -> None:
    assert load_forwarding(None, PROJECTS) == {}
    assert load_forwarding("  ", PROJECTS) == {}


def test_a_project_maps_to_its_upstream() -> None:
    [(project_id, upstream)] = forwarding({"api": f"https://{KEY}@o0.ingest.sentry.io/42"}).items()
    assert project_id == 1
    assert upstream.envelope_url == "https://o0.ingest.sentry.io/api/42/envelope/"
    assert upstream.public_key == KEY
    assert KEY not in upstream.masked


def test_a_path_before_the_project_id_is_kept() -> None:
    [upstream] = forwarding({"api": f"https://{KEY}@sentry.example.com/sentry/7"}).values()
    assert upstream.envelope_url == "https://sentry.example.com/sentry/api/7/envelope/"


def test_star_forwards_every_project_and_a_named_one_wins() -> None:
    upstreams = forwarding({"*": f"https://{KEY}@o0.ingest.sentry.io/1", "api": f"https://{KEY}@o0.ingest.sentry.io/2"})
    assert sorted(upstreams) == sorted(PROJECTS)
    assert upstreams[1].project_id == 2
    assert upstreams[2].project_id == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "relay-mock", "127.0.0.1:9100"])
def test_plain_http_is_allowed_to_loopback_and_the_compose_network(host: str) -> None:
    assert forwarding({"api": f"http://{KEY}@{host}/5"})


def test_plain_http_to_another_host_is_refused() -> None:
    message = refusal({"api": f"http://{KEY}@sentry.example.com/5"})
    assert "'api'" in message and "https" in message


def test_an_unknown_project_is_refused_naming_the_known_ones() -> None:
    message = refusal({"billing": f"https://{KEY}@o0.ingest.sentry.io/5"})
    assert "'billing'" in message and "api" in message


@pytest.mark.parametrize(
    "value",
    [
        f"{{'api': 'https://{KEY}@o0.ingest.sentry.io/5'}}",  # not JSON (and the key must not be quoted back)
        [f"https://{KEY}@o0.ingest.sentry.io/5"],
        {},
        {"api": f"https://{KEY}@o0.ingest.sentry.io/project"},
        {"api": "https://o0.ingest.sentry.io/5"},
        {"api": f"ftp://{KEY}@o0.ingest.sentry.io/5"},
        {"api": f"https://{KEY}@o0.ingest.sentry.io/5?x={KEY}"},
        {"api": 5},
        {"api": f"https://{KEY}@o0.ingest.sentry.io:99999/5"},
    ],
)
def test_malformed_values_are_refused_without_echoing_the_key(value: object) -> None:
    refusal(value)


def test_a_file_is_read_with_at(tmp_path: Path) -> None:
    path = tmp_path / "forward.json"
    path.write_text(orjson.dumps({"downstream": f"https://{KEY}@o0.ingest.sentry.io/9"}).decode())
    assert list(forwarding(f"@{path}")) == [2]
    message = refusal(f"@{tmp_path / 'missing.json'}")
    assert "missing.json" in message


def test_relay_mock_does_not_start_with_a_bad_value(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "RELAY_DATA_DIR": str(tmp_path),
        "RELAY_FORWARD": orjson.dumps({"api": f"http://{KEY}@sentry.example.com/5"}).decode(),
    }
    done = subprocess.run(
        [sys.executable, "-m", "relay_mock", "serve"],
        cwd=REPO / "relay-mock",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "RELAY_FORWARD entry 'api'" in done.stderr
    assert KEY not in done.stderr + done.stdout


def test_the_header_names_the_upstream_and_only_a_sandbox_key_is_translated() -> None:
    upstreams = forwarding({"api": f"https://{KEY}@o0.ingest.sentry.io/42"})
    upstream = upstreams[1]
    sandbox_keys = {PROJECTS[1].public_key: upstream}
    items = b'{"type":"event","length":2}\n{}\n'
    for dsc_key, expected in ((PROJECTS[1].public_key, KEY), ("someone-elses-key", "someone-elses-key")):
        header = {"event_id": "a" * 32, "dsn": DEFAULT_PROJECTS["api"], "trace": {"public_key": dsc_key}}
        out = rewrite(orjson.dumps(header) + b"\n" + items, upstream, sandbox_keys)
        head, _, rest = out.partition(b"\n")
        assert orjson.loads(head)["dsn"] == f"https://{KEY}@o0.ingest.sentry.io/42"
        assert orjson.loads(head)["trace"]["public_key"] == expected
        assert rest == items  # the items byte for byte


def test_rate_limit_headers_per_category() -> None:
    limits = parse_rate_limits("60:transaction;error:organization, 5::key", None, 1000.0)
    assert limits == {"transaction": 1060.0, "error": 1060.0, ALL: 1005.0}
    assert parse_rate_limits(None, "7", 1000.0) == {ALL: 1007.0}
    assert parse_rate_limits("garbage", None, 1000.0) == {ALL: 1060.0}
