"""Spotlight's own CLI against the compose stack: relay-mock is published on Spotlight's port too
(8969 in the dev stack, SPOTLIGHT_PORT=18969 in the test stack), so `spotlight tail -p <port>`
finds relay-mock's `/stream` and prints the error api sent to relay-mock by its DSN."""

from __future__ import annotations

import subprocess

import httpx
import pytest

from bench import spotlight
from tests.relay_http.test_spotlight_cli import Lines
from tests.support.stack import Stack

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def test_spotlight_tail_on_the_stacks_spotlight_port_prints_an_error_api_sent_by_dsn(stack: Stack) -> None:
    run_js = spotlight.install()
    if run_js is None:
        pytest.fail("Spotlight's CLI could not be installed from npm (see stderr)", pytrace=False)
    process = subprocess.Popen(
        ["node", str(run_js), "tail", "errors", "-p", str(stack.port("SPOTLIGHT_PORT")), "-f", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = Lines(process)
    try:
        answer = httpx.get(f"{stack.api_url}/test-error", timeout=10)
        assert answer.status_code == 500
        event_id = answer.json()["event_id"]

        printed = lines.json_with(event_id=event_id)

        assert printed["type"] == "error" and printed["exception_type"] == "SentryTestError"
        assert answer.json()["test_error_id"] in printed["exception_value"]
        assert process.poll() is None, "spotlight tail must stay attached, not start a sidecar of its own"
    finally:
        lines.stop()
