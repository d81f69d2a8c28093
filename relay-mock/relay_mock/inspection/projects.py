"""Projects: which project ids and keys relay-mock accepts, with a DSN for each, so a test can
configure the service it runs without copying keys out of relay-mock's settings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.dsn import build_dsn
from relay_mock.inspection.responses import respond
from relay_mock.settings import Project


async def list_projects(request: Request) -> Response:
    base_url: str = request.app.state.settings.public_url
    projects: dict[int, Project] = request.app.state.projects
    return respond(
        models.ProjectList,
        {
            "projects": [
                {"id": p.id, "name": p.name, "public_key": p.public_key, "dsn": build_dsn(base_url, p.public_key, p.id)}
                for p in sorted(projects.values(), key=lambda p: p.id)
            ]
        },
    )
