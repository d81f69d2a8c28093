"""How long the verifier takes on a load test's worth of traces (run by hand, not a test):

    PYTHONPATH=relay-mock .venv/bin/python -m tests.verify.timing [traces]

50,000 two-hop traces of ~5 spans per transaction, i.e. 100,000 stored envelopes; one trace
in a hundred is broken and a few losses are explained by client reports.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace

from relay_mock.verify.checks import verify
from relay_mock.verify.model import SpanFact, TraceBundle, TransactionFact
from relay_mock.verify.render import render_json, render_junit, render_table
from relay_mock.verify.report import Report
from tests.verify.builders import CONFIG, T0, client_report, healthy_trace, span_id


def _padded(tx: TransactionFact | None, n: int, role: int) -> TransactionFact:
    """`tx` with extra spans, so each transaction holds about five."""
    assert tx is not None
    extra = tuple(
        SpanFact(span_id(n, role + i), tx.span_id, "template.render", "orders.html", tx.start, tx.start)
        for i in range(1, 6 - len(tx.spans))
    )
    return replace(tx, spans=(*tx.spans, *extra))


def _bundles(count: int) -> list[TraceBundle]:
    bundles = []
    for n in range(1, count + 1):
        t = healthy_trace(n, started_at=T0 + n * 0.01)
        t = replace(t, api=_padded(t.api, n, 0xB0), downstream=_padded(t.downstream, n, 0xC0))
        if n % 100 == 0:
            t = replace(t, downstream=None)
        bundles.append(t.bundle())
    return bundles


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    bundles = _bundles(count)
    reports = [client_report("downstream", "queue_overflow", quantity=count // 400, at=T0 + count * 0.01)]
    wall, cpu = time.perf_counter(), time.process_time()
    report = verify(bundles, client_reports=reports, refusals=[], config=CONFIG)
    print(f"verify: {time.perf_counter() - wall:.2f}s wall, {time.process_time() - cpu:.2f}s cpu, {count} traces")
    renders: list[tuple[str, Callable[[Report], str]]] = [
        ("json", render_json),
        ("junit", render_junit),
        ("table", render_table),
    ]
    for name, render in renders:
        wall = time.perf_counter()
        render(report)
        print(f"render_{name}: {time.perf_counter() - wall:.2f}s wall")
    print(f"failures={report.failures} attributed={report.attributed_losses}")


if __name__ == "__main__":
    main()
