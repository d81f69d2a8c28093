"""relay-mock's command line. `serve` runs the server; the other commands talk to a
running relay-mock over its HTTP API (RELAY_URL, default http://127.0.0.1:9000)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import datetime
from typing import cast

import httpx
import orjson
from rich.console import Console
from rich.table import Table

from relay_mock.client import EnvelopeFilters, RelayClient, RelayError
from relay_mock.models import as_json

DEFAULT_URL = os.environ.get("RELAY_URL", "http://127.0.0.1:9000")


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from relay_mock.app import RelayMock
    from relay_mock.server import UVICORN_OPTIONS
    from relay_mock.settings import load_forwarding, load_projects, load_settings

    settings = load_settings()
    projects = load_projects()
    upstreams = load_forwarding(settings.forward.get_secret_value() if settings.forward else None, projects)
    logging.basicConfig(
        level=settings.log_level,
        stream=sys.stdout,
        format="%(asctime)s %(levelname)s relay-mock %(name)s: %(message)s",
    )
    uvicorn.run(RelayMock(settings, projects, upstreams), host=settings.host, port=settings.port, **UVICORN_OPTIONS)
    return 0


def _client(args: argparse.Namespace) -> RelayClient:
    # The token, when the inspection API asks for one, comes from RELAY_INSPECT_TOKEN.
    return RelayClient(args.url, timeout=args.timeout)


def _filters(args: argparse.Namespace) -> EnvelopeFilters:
    names = ("type", "trace_id", "event_id", "project", "release", "environment", "server_name", "since", "until")
    return cast(EnvelopeFilters, {name: getattr(args, name) for name in names if getattr(args, name, None)})


def envelopes(args: argparse.Namespace) -> int:
    with _client(args) as relay:
        page = relay.envelopes(limit=args.limit, payloads=False, **_filters(args))
    table = Table(title=f"newest {args.limit} envelopes at {args.url}")
    for column in ("received", "project", "items", "trace id", "event id", "encoding", "bytes", "envelope"):
        table.add_column(column, no_wrap=column != "items")
    for envelope in page.envelopes:
        request = envelope.request
        table.add_row(
            _local(envelope.received_ts),
            envelope.project.name,
            ",".join(envelope.item_types),
            envelope.trace_id or "",
            (envelope.event_id or "")[:12],
            request.content_encoding,
            f"{request.compressed_size}→{request.raw_size}",
            envelope.id,
        )
    _console().print(table)
    return 0


# Rich styles per Sentry log level (the UI uses the same colours).
LEVEL_STYLES = {"trace": "dim", "debug": "dim", "info": "cyan", "warn": "yellow", "error": "red", "fatal": "bold red"}


def logs(args: argparse.Namespace) -> int:
    """Sentry logs, newest first, as a table (or JSON lines with --json)."""
    names = ("service", "level", "trace_id", "q", "since", "until")
    params: dict[str, object] = {name: getattr(args, name) for name in names if getattr(args, name, None)}
    for name in ("since", "until"):
        if name in params:
            params[name] = _when(str(params[name]))
    with _client(args) as relay:
        found = relay.logs(**params, limit=args.limit).logs
    if args.json:
        for log in found:
            print(orjson.dumps(as_json(log)).decode())
        return 0
    table = Table(title=f"newest {args.limit} Sentry logs at {args.url}")
    for column in ("time", "service", "level", "message", "trace id", "span id"):
        table.add_column(column, no_wrap=column != "message")
    for log in found:
        level = log.level or ""
        table.add_row(
            _local(log.timestamp),
            log.service,
            f"[{LEVEL_STYLES.get(level, '')}]{level}[/]",
            log.body,
            log.trace_id or "",
            log.span_id or "",
        )
    _console().print(table)
    return 0


def tail(args: argparse.Namespace) -> int:
    """Follow what relay-mock stores, live (relay_mock/tail.py)."""
    from relay_mock import tail as following

    fmt = args.format or ("human" if sys.stdout.isatty() else "json")
    filters = following.Filters(
        item_types=following.KINDS[args.kind], project=args.project, service=args.service, trace_id=args.trace_id
    )
    if fmt == "human":
        print(f"following {args.url}/stream ({args.kind}; Ctrl-C to stop)", file=sys.stderr)
    try:
        following.follow(args.url, filters, following.Printer(fmt, sys.stdout), replay=args.replay)
    except KeyboardInterrupt:
        return 0
    return 0


def export(args: argparse.Namespace) -> int:
    out = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")
    try:
        with _client(args) as relay:
            count = relay.export(out, **_filters(args))
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    print(f"exported {count} envelopes", file=sys.stderr)
    return 0


def clear(args: argparse.Namespace) -> int:
    with _client(args) as relay:
        relay.clear()
    print("relay-mock: every stored envelope, refusal and expectation deleted", file=sys.stderr)
    return 0


def stats(args: argparse.Namespace) -> int:
    with _client(args) as relay:
        found = relay.stats()
    print(orjson.dumps(found.model_dump(), option=orjson.OPT_INDENT_2).decode())
    return 0


def forwarding(args: argparse.Namespace) -> int:
    """Per forwarded project: the outbox's counts, the upstream's answers, the last error."""
    with _client(args) as relay:
        found = relay.forwarding()
    if args.json:
        print(orjson.dumps(found.model_dump(), option=orjson.OPT_INDENT_2).decode())
        return 0
    if not found.enabled and not found.projects:
        print("forwarding is off (set RELAY_FORWARD to a JSON object of project name to upstream DSN)")
        return 0
    table = Table(title=f"forwarding to a real Sentry (expires after {found.max_age_s:g} s)")
    columns = ("project", "upstream", "acked", "pending", "sent", "rejected", "expired", "dup.", "oldest", "statuses")
    for column in (*columns, "last error"):
        table.add_column(column, no_wrap=column not in ("last error", "upstream"))
    for p in found.projects:
        oldest = p.oldest_pending_age_s
        waits = [f"rate limited: {', '.join(p.rate_limited)}"] if p.rate_limited else []
        if p.backing_off_until:
            waits.append(f"backing off until {p.backing_off_until}")
        table.add_row(
            p.project.name or str(p.project.id),
            p.upstream,
            str(p.acknowledged),
            str(p.pending),
            str(p.sent),
            str(p.rejected),
            str(p.expired),
            str(p.duplicates),
            "" if oldest is None else f"{oldest:.1f} s",
            ", ".join(f"{status}: {count}" for status, count in p.statuses.items()),
            "; ".join([*waits, *([p.last_error] if p.last_error else [])]),
        )
    _console().print(table)
    return 0


def verify(args: argparse.Namespace) -> int:
    """Exit 0: nothing failed and unverified traces within --max-unverified; 1: something failed;
    3: inconclusive (nothing failed, too many unverified); 2: relay-mock unreachable or a bad
    argument (see EXIT_* in relay_mock.verify.report)."""
    from relay_mock.verify.render import render_json, render_junit, render_table
    from relay_mock.verify.report import NOTHING_TO_VERIFY, Report, parse_limit
    from relay_mock.verify.topology import TopologyError, load_topology

    try:
        parse_limit(args.max_unverified)
        expect = load_topology(open(args.expect).read()) if args.expect else None
    except (ValueError, OSError) as exc:
        where = f"{args.expect}: " if isinstance(exc, TopologyError) else ""
        print(f"relay-mock verify: {where}{exc}", file=sys.stderr)
        return 2
    for url in args.flush:
        _flush(url, args.timeout)
    since, until = (_when(value) if value else None for value in (args.since, args.until))
    with _client(args) as relay:
        try:
            verdict = relay.verify(
                trace_id=args.trace_id, since=since, until=until, deadline=args.deadline, topology=expect
            )
            if verdict.still_pending and args.flush:
                # Requests still in flight at the first flush ended while we waited; their drops
                # are counted only if the SDKs are flushed again (then checked once more, at once).
                for url in args.flush:
                    _flush(url, args.timeout)
                verdict = relay.verify(trace_id=args.trace_id, since=since, until=until, topology=expect)
        except RelayError as exc:
            print(f"relay-mock verify: {exc}", file=sys.stderr)
            return 2
    # The report as the API sent it: the model keeps every field it read.
    report = Report.from_dict(verdict.report.model_dump(exclude_unset=True))
    console = _console()
    limit = args.max_unverified
    print(render_table(report, color=sys.stdout.isatty(), width=console.width, max_unverified=limit))
    if verdict.still_pending:
        print(f"(gave up waiting after {verdict.waited_s} s: {verdict.still_pending} expected traces still incomplete)")
    # --show-as names the directory the way the user finds it (the host's reports/, not the
    # container's mount point).
    for path, render in ((args.json, render_json), (args.junit, render_junit)):
        if path:
            with open(path, "w") as out:
                out.write(render(report, limit))
            shown = os.path.join(args.show_as, os.path.basename(path)) if args.show_as else path
            print(f"wrote {shown}", file=sys.stderr)
    outcome, status = report.outcome(limit)
    if outcome == NOTHING_TO_VERIFY:
        print("nothing to verify: no trace and no expectation in the window (reasons above)", file=sys.stderr)
    if outcome == "INCONCLUSIVE":
        print(
            f"inconclusive: {report.verdicts.get('unverified', 0)} traces unverified, more than MAX_UNVERIFIED allows"
            f" ({report.allowed_unverified(limit)}); the causes are listed above",
            file=sys.stderr,
        )
    return status


def _flush(url: str, timeout: float) -> None:
    """Ask a service to send what its SDK holds (its latest client reports above all)."""
    try:
        response = httpx.post(url, timeout=timeout)
        response.raise_for_status()
        print(f"flushed {url} in {response.json().get('seconds')} s", file=sys.stderr)
    except (httpx.HTTPError, ValueError) as exc:
        # Not fatal: a service that is down (a chaos run) has nothing to flush; its last drops
        # may just go unreported.
        print(f"could not flush {url} ({exc}); drops it has not reported yet stay unexplained", file=sys.stderr)


def _when(value: str) -> str:
    """`10m`, `90s`, `2h` ago as epoch seconds; anything else is passed through (epoch or ISO)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if value[-1:] in units and value[:-1].replace(".", "", 1).isdigit():
        return str(time.time() - float(value[:-1]) * units[value[-1]])
    return value


def _console() -> Console:
    # Piped output (docker compose exec -T, CI logs) gets a wide table rather than 80 columns.
    return Console() if sys.stdout.isatty() else Console(width=200)


def _local(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts).strftime("%H:%M:%S.%f")[:-3]


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--type", help="item type: transaction, event, session, client_report, ...")
    parser.add_argument("--trace-id", dest="trace_id")
    parser.add_argument("--event-id", dest="event_id")
    parser.add_argument("--project", help="project name or id")
    parser.add_argument("--release")
    parser.add_argument("--environment")
    parser.add_argument("--server-name", dest="server_name")
    parser.add_argument("--since", help="epoch seconds or ISO 8601")
    parser.add_argument("--until", help="epoch seconds or ISO 8601")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="relay-mock", description="Sentry ingest stand-in and inspector")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"relay-mock's address (default {DEFAULT_URL})")
    parser.add_argument("--timeout", type=float, default=30.0)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the server").set_defaults(func=serve)

    listing = commands.add_parser("envelopes", help="the newest envelopes as a table")
    _add_filters(listing)
    listing.add_argument("--limit", type=int, default=30)
    listing.set_defaults(func=envelopes)

    following = commands.add_parser("tail", help="follow what arrives, live: errors, logs, traces, metrics")
    following.add_argument("kind", nargs="?", default="all", choices=["errors", "logs", "traces", "metrics", "all"])
    following.add_argument(
        "--format", "-f", choices=["human", "json", "logfmt"], help="default: human on a terminal, else json (NDJSON)"
    )
    following.add_argument("--project", help="project name or id")
    following.add_argument("--service", help="the project's name, the release's package or the server name")
    following.add_argument("--trace-id", dest="trace_id")
    following.add_argument("--replay", type=int, default=0, help="first show the newest N stored envelopes")
    following.set_defaults(func=tail)

    logging_ = commands.add_parser("logs", help="the newest Sentry logs as a table")
    logging_.add_argument("--service", help="project name: api, downstream, ...")
    logging_.add_argument("--level", help="trace, debug, info, warn(ing), error, fatal")
    logging_.add_argument("--trace-id", dest="trace_id")
    logging_.add_argument("--q", help="text the message contains")
    logging_.add_argument("--since", help="epoch seconds, ISO 8601, or an age like 10m")
    logging_.add_argument("--until", help="same forms")
    logging_.add_argument("--limit", type=int, default=50)
    logging_.add_argument("--json", action="store_true", help="one JSON object per line, attributes included")
    logging_.set_defaults(func=logs)

    exporting = commands.add_parser("export", help="every envelope as JSON lines, oldest first")
    _add_filters(exporting)
    exporting.add_argument("--output", "-o", default="-", help="file to write (default: standard output)")
    exporting.set_defaults(func=export)

    checking = commands.add_parser("verify", help="check that every trace crossed the hop intact")
    checking.add_argument("--since", help="window start: epoch seconds, ISO 8601, or an age like 10m")
    checking.add_argument("--until", help="window end, same forms")
    checking.add_argument("--trace-id", dest="trace_id", help="check one trace")
    checking.add_argument("--deadline", type=float, default=30.0, help="seconds to wait for traces still arriving")
    checking.add_argument("--json", help="write the JSON report here")
    checking.add_argument(
        "--max-unverified",
        dest="max_unverified",
        default="0",
        help="unverified traces allowed before the run is inconclusive (exit 3): a count, or a percentage like 2%%",
    )
    checking.add_argument("--expect", help="an expectations file (YAML) for the topology")
    checking.add_argument("--show-as", dest="show_as", help="the directory to name in 'wrote ...' messages")
    checking.add_argument("--junit", help="write a JUnit XML report here")
    checking.add_argument(
        "--flush",
        action="append",
        default=[],
        metavar="URL",
        help="POST here first so a service's SDK sends its pending client reports (repeatable)",
    )
    checking.set_defaults(func=verify)

    commands.add_parser("clear", help="delete everything stored").set_defaults(func=clear)
    commands.add_parser("stats", help="statistics as JSON").set_defaults(func=stats)
    forwarding_ = commands.add_parser("forwarding", help="what is forwarded to a real Sentry, per project")
    forwarding_.add_argument("--json", action="store_true", help="the inspection API's answer as JSON")
    forwarding_.set_defaults(func=forwarding)

    args = parser.parse_args(argv)
    try:
        sys.exit(args.func(args))
    except RelayError as exc:
        causes = f": {'; '.join(exc.causes)}" if exc.causes else ""
        print(f"relay-mock answered {exc.status}: {exc.detail}{causes}", file=sys.stderr)
        sys.exit(1)
    except httpx.HTTPError as exc:
        print(f"cannot reach relay-mock at {args.url}: {exc}", file=sys.stderr)
        sys.exit(2)
