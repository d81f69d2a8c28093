"""An expected trace as the verifier reads it back from its stored row (store/expectations.py;
expectations.py validates what is recorded)."""

from __future__ import annotations

from typing import Any

import orjson

from relay_mock.verify.model import ExpectationFact, WitnessFact


def from_row(row: Any) -> ExpectationFact:
    return ExpectationFact(
        trace_id=row["trace_id"],
        scenario=row["scenario"],
        started_at=row["started_at"],
        sampled=bool(row["sampled"]),
        sample_rand=row["sample_rand"],
        sample_rate=row["sample_rate"],
        expect_services=tuple(orjson.loads(row["expect_services"])),
        expect_errors_from=tuple(orjson.loads(row["expect_errors_from"])),
        baggage=orjson.loads(row["baggage"]) if row["baggage"] else None,
        status_code=row["status_code"],
        outcome=row["outcome"],
        ended_at=row["ended_at"],
        witnesses=(
            tuple(
                WitnessFact(
                    w.get("received"), w.get("service"), w.get("sampled"), w.get("traceparent"), w.get("trace_id")
                )
                for w in orjson.loads(row["witnesses"])
            )
            if row["witnesses"]
            else None
        ),
        # A store written before the column existed: its callers sent sentry-trace.
        propagation=_column(row, "propagation") or "sentry",
    )


def _column(row: Any, name: str) -> Any:
    try:
        return row[name]
    except (IndexError, KeyError):
        return None
