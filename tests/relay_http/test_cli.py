"""relay-mock's command line against a running relay-mock (envelopes, export, stats, clear,
verify), and `serve` refusing bad settings with a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import orjson
import pytest

from tests.relay_http.inspector import Inspector
from tests.relay_http.wire import envelope, item, new_id, post_envelope, send_event
from tests.support.relay_server import REPO, RelayMock, free_port


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("RELAY_")}
    return subprocess.run(
        [sys.executable, "-m", "relay_mock", *args],
        cwd=REPO / "relay-mock",
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_envelopes_lists_the_newest_envelopes_as_a_table(relay: RelayMock, http: httpx.Client) -> None:
    release = f"cli@{new_id()}"
    event_id = send_event(http, relay.url, release=release)

    done = cli("--url", relay.url, "envelopes", "--release", release)

    assert done.returncode == 0, done.stderr
    assert event_id[:12] in done.stdout
    assert "api" in done.stdout and "event" in done.stdout


def test_export_writes_every_matching_envelope_as_a_json_line(
    relay: RelayMock, http: httpx.Client, tmp_path: Path
) -> None:
    release = f"exported@{new_id()}"
    sent = [send_event(http, relay.url, release=release) for _ in range(3)]
    out = tmp_path / "envelopes.jsonl"

    done = cli("--url", relay.url, "export", "--release", release, "-o", str(out))

    assert done.returncode == 0, done.stderr
    assert [orjson.loads(line)["event_id"] for line in out.read_bytes().splitlines()] == sent
    assert "exported 3 envelopes" in done.stderr


def test_stats_prints_the_statistics_as_json(relay: RelayMock, inspector: Inspector, http: httpx.Client) -> None:
    send_event(http, relay.url)

    done = cli("--url", relay.url, "stats")

    assert done.returncode == 0, done.stderr
    printed = orjson.loads(done.stdout)
    assert printed["envelopes"]["stored"] == inspector.stats()["envelopes"]["stored"] > 0


def test_clear_deletes_everything_stored(relay: RelayMock, inspector: Inspector, http: httpx.Client) -> None:
    send_event(http, relay.url)

    done = cli("--url", relay.url, "clear")

    assert done.returncode == 0, done.stderr
    assert inspector.envelopes() == []


def test_verify_on_an_empty_store_is_not_a_pass_it_exits_3_saying_nothing_to_verify(
    relay: RelayMock, inspector: Inspector, tmp_path: Path
) -> None:
    # A service whose DSN points elsewhere sends nothing here: a green run would hide that.
    inspector.clear()
    report, junit = tmp_path / "verify.json", tmp_path / "verify.xml"

    done = cli("--url", relay.url, "verify", "--deadline", "0", "--json", str(report), "--junit", str(junit))

    assert done.returncode == 3, done.stdout + done.stderr
    assert "Trace verification NOTHING TO VERIFY" in done.stdout
    assert "the services' DSNs may point at another host" in done.stdout
    assert "nothing to verify" in done.stderr
    data = orjson.loads(report.read_bytes())
    assert (data["ok"], data["outcome"], data["exit_status"]) == (False, "NOTHING TO VERIFY", 3)
    assert any("DSN" in reason for reason in data["nothing_to_verify"])
    suites = ET.parse(junit).getroot()
    assert suites.get("errors") == "1"
    [error] = suites.iter("error")
    assert "nothing to verify" in (error.get("message") or "") and "DSN" in (error.text or "")


def test_verify_with_an_expectations_file_sends_it_and_prints_the_report(
    relay: RelayMock, inspector: Inspector, tmp_path: Path
) -> None:
    inspector.clear()
    report = tmp_path / "verify.json"

    done = cli(
        "--url", relay.url, "verify", "--deadline", "0", "--since", "10m",
        "--expect", str(REPO / "expectations" / "sandbox.yaml"), "--json", str(report),
    )  # fmt: skip

    # The file was read and sent (a bad one exits 2); with nothing stored the run proves nothing.
    assert done.returncode == 3, done.stdout + done.stderr
    assert "Per check (traces)" in done.stdout
    assert orjson.loads(report.read_bytes())["outcome"] == "NOTHING TO VERIFY"


def test_a_command_that_cannot_reach_relay_mock_exits_2_naming_the_address() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    done = cli("--url", url, "--timeout", "2", "stats")

    assert done.returncode == 2
    assert f"cannot reach relay-mock at {url}" in done.stderr


BAD_SETTINGS = [
    ({"RELAY_PORT": "abc"}, "RELAY_PORT"),
    ({"RELAY_PORT": "70000"}, "RELAY_PORT"),
    ({"RELAY_MAX_COMPRESSED_BYTES": "10"}, "RELAY_MAX_COMPRESSED_BYTES"),
    ({"RELAY_RETENTION_MAX_ENVELOPES": "many"}, "RELAY_RETENTION_MAX_ENVELOPES"),
    ({"RELAY_PROJECT_SHOP": "not a dsn"}, "RELAY_PROJECT_SHOP"),
    ({"RELAY_PROJECT_SHOP": "http://key@relay-mock:9000/shop"}, "RELAY_PROJECT_SHOP"),
]


@pytest.mark.parametrize(("env", "variable"), BAD_SETTINGS, ids=[f"{v}={e[v]}" for e, v in BAD_SETTINGS])
def test_serve_refuses_a_bad_setting_naming_the_variable(tmp_path: Path, env: dict[str, str], variable: str) -> None:
    settings = {"RELAY_DATA_DIR": str(tmp_path), "RELAY_HOST": "127.0.0.1", "RELAY_PORT": str(free_port()), **env}

    done = cli("serve", env=settings, timeout=30)

    assert done.returncode != 0
    assert "invalid configuration" in done.stderr
    assert variable in done.stderr
    assert "Traceback" not in done.stderr


def test_logs_lists_sentry_logs_and_export_includes_them(relay: RelayMock, http: httpx.Client, tmp_path: Path) -> None:
    trace_id = new_id()
    log = {"timestamp": 1_800_000_000.5, "level": "warn", "body": f"stock short {trace_id[:6]}", "trace_id": trace_id}
    body = envelope(item("log", {"version": 2, "items": [log]}, item_count=1), sent_at="2027-01-15T08:00:00Z")
    assert post_envelope(http, relay.url, body).status_code == 200
    out = tmp_path / "envelopes.jsonl"

    listed = cli("--url", relay.url, "logs", "--trace-id", trace_id, "--level", "warning")
    as_json = cli("--url", relay.url, "logs", "--trace-id", trace_id, "--json")
    exported = cli("--url", relay.url, "export", "--trace-id", trace_id, "-o", str(out))

    assert listed.returncode == 0, listed.stderr
    assert f"stock short {trace_id[:6]}" in listed.stdout and "warn" in listed.stdout
    assert orjson.loads(as_json.stdout)["body"] == log["body"]
    assert exported.returncode == 0, exported.stderr
    (line,) = out.read_text().splitlines()
    assert f"stock short {trace_id[:6]}" in line
