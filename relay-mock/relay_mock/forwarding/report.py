"""The forwarding report: per forwarded project, what is pending, sent, rejected and expired, the
upstream's answers, and what the forwarder waits for. The upstream's key is shown masked, always.
`GET /inspect/forwarding` and the MCP tool `forwarding` both answer it."""

from __future__ import annotations

import time

from starlette.datastructures import State

from relay_mock import models
from relay_mock.forwarding.forwarder import Forwarder
from relay_mock.settings import Project, Upstream
from relay_mock.store import outbox
from relay_mock.store.read_pool import Reader
from relay_mock.store.values import iso


async def report(state: State) -> models.Forwarding:
    """What `GET /inspect/forwarding` and the MCP tool `forwarding` answer."""
    reader: Reader = state.reader
    upstreams: dict[int, Upstream] = state.upstreams
    projects: dict[int, Project] = state.projects
    forwarder: Forwarder | None = state.forwarder
    books = await reader.run(outbox.summary)
    backlog, counters = books.backlog, books.counters
    now = time.time()
    # Projects forwarded now, and any that still have outbox rows from an earlier configuration.
    project_ids = sorted(set(upstreams) | set(backlog) | _counted_projects(counters))
    answer = []
    for project_id in project_ids:
        upstream = upstreams.get(project_id)
        project = projects.get(project_id)
        pending = backlog.get(project_id)

        def count(what: str, pid: int = project_id) -> int:
            return counters.get(f"forward.{what}.{pid}", 0)

        statuses = {
            name.split(".")[2]: value
            for name, value in counters.items()
            if name.startswith("forward.status.") and name.endswith(f".{project_id}")
        }
        entry = models.ForwardingProject(
            project=models.ProjectRef(id=project_id, name=project.name if project else None),
            upstream=upstream.masked if upstream else "(no longer forwarded)",
            acknowledged=count("queued"),
            pending=pending.pending if pending else 0,
            sent=count("sent"),
            rejected=count("rejected"),
            expired=count("expired"),
            evicted_unsent=count("evicted"),
            duplicates=count("duplicates"),
            oldest_pending_age_s=round(now - pending.oldest_queued_at, 3)
            if pending and pending.oldest_queued_at
            else None,
            statuses=dict(sorted(statuses.items())),
        )
        last = books.last_errors.get(project_id)  # kept in the store: it survives a restart
        if last is not None:
            entry.last_error_at, entry.last_error = iso(last[0]), last[1]
        if forwarder is not None:
            if upstream is not None:
                waits = forwarder.states.get(upstream.envelope_url)
                if waits is not None:
                    entry.rate_limited = {
                        category or "*": iso(until) for category, until in sorted(waits.limits.items()) if until > now
                    }
                    if waits.backoff_until > now:
                        entry.backing_off_until = iso(waits.backoff_until)
        answer.append(entry)
    return models.Forwarding(enabled=bool(upstreams), max_age_s=state.settings.forward_max_age, projects=answer)


def _counted_projects(counters: dict[str, int]) -> set[int]:
    found = set()
    for name in counters:
        if name.startswith("forward.queued."):
            found.add(int(name.rsplit(".", 1)[1]))
    return found
