"""relay-mock's command line: `serve` runs the server; the other commands talk to a
running relay-mock over its HTTP API."""

from __future__ import annotations

import argparse
import logging
import sys

import uvicorn

from relay_mock.app import RelayMock
from relay_mock.settings import load_projects, load_settings


def serve(_: argparse.Namespace) -> int:
    settings = load_settings()
    projects = load_projects()
    logging.basicConfig(
        level=settings.log_level, stream=sys.stdout, format="%(asctime)s %(levelname)s relay-mock %(name)s: %(message)s"
    )
    uvicorn.run(
        RelayMock(settings, projects),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        # Deliberate limits (docs/resilience.md): bounded connections and header sizes,
        # idle keep-alives dropped, so floods and slow clients cannot exhaust the process.
        limit_concurrency=2000,
        backlog=4096,
        timeout_keep_alive=30,
        h11_max_incomplete_event_size=64 * 1024,
    )
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="relay-mock", description="Sentry ingest stand-in and inspector")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the server").set_defaults(func=serve)
    args = parser.parse_args(argv)
    sys.exit(args.func(args))
