"""What the store holds, counted: items by type, envelopes by project, service and encoding,
refusals, and the drops the SDKs reported."""

from __future__ import annotations

import sqlite3

from relay_mock.models import (
    ClientReportStats,
    Discarded,
    EnvelopeTotals,
    ProjectStats,
    RefusedStats,
    RelayViewStats,
    Stats,
)


def counts(conn: sqlite3.Connection, *, envelopes: EnvelopeTotals, relay: RelayViewStats) -> Stats:
    """The counts of what is stored; the writer's totals and Relay's view come from the caller
    (they live in memory, not in the tables)."""
    by_type = {row[0]: row[1] for row in conn.execute("SELECT type, count(*) FROM items GROUP BY type ORDER BY 2 DESC")}
    by_project = {
        row["project"]: ProjectStats(
            project_id=row["project_id"], envelopes=row["n"], raw_bytes=row["raw"], compressed_bytes=row["compressed"]
        )
        for row in conn.execute(
            "SELECT project, project_id, count(*) AS n, sum(raw_size) AS raw, sum(compressed_size) AS compressed"
            " FROM envelopes GROUP BY project, project_id ORDER BY project"
        )
    }
    by_service: dict[str, dict[str, int]] = {}
    for row in conn.execute(
        "SELECT coalesce(server_name, '(none)'), type, count(*) FROM items"
        " WHERE type IN ('event', 'transaction') GROUP BY 1, 2"
    ):
        by_service.setdefault(row[0], {})[row[1]] = row[2]
    encodings = {row[0]: row[1] for row in conn.execute("SELECT content_encoding, count(*) FROM envelopes GROUP BY 1")}
    refused = RefusedStats(total=0, injected=0, by_reason={}, by_status={})
    for row in conn.execute("SELECT reason, status, injected, count(*) FROM refusals GROUP BY 1, 2, 3"):
        refused.total += row[3]
        refused.injected += row[3] if row[2] else 0
        refused.by_reason[row[0]] = refused.by_reason.get(row[0], 0) + row[3]
        refused.by_status[str(row[1])] = refused.by_status.get(str(row[1]), 0) + row[3]
    reports = ClientReportStats(total=0, by_reason={}, by_category={}, by_project={})
    for row in conn.execute(
        "SELECT e.project, json_extract(d.value, '$.reason'), json_extract(d.value, '$.category'),"
        " sum(json_extract(d.value, '$.quantity'))"
        " FROM items i JOIN envelopes e ON e.id = i.envelope_rowid, json_each(i.summary, '$.discarded_events') d"
        " WHERE i.type = 'client_report' AND json_valid(i.summary) GROUP BY 1, 2, 3"
    ):
        project, reason, category, quantity = row[0], str(row[1]), str(row[2]), int(row[3] or 0)
        reports.total += quantity
        reports.by_reason[reason] = reports.by_reason.get(reason, 0) + quantity
        reports.by_category[category] = reports.by_category.get(category, 0) + quantity
        per = reports.by_project.setdefault(project, [])
        per.append(Discarded(reason=reason, category=category, quantity=quantity))
    problems = conn.execute("SELECT count(*) FROM items WHERE problem IS NOT NULL").fetchone()[0]
    return Stats(
        items_by_type=by_type,
        by_project=by_project,
        by_service=by_service,
        content_encodings=encodings,
        refused=refused,
        client_reports=reports,
        items_with_problems=problems,
        envelopes=envelopes,
        relay=relay,
    )
