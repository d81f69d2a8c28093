"""Projects: which project ids and keys relay-mock accepts, with a DSN for each, so a test can
configure the service it runs without copying keys out of relay-mock's settings."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relay_mock.inspect.responses import ORJSONResponse
from relay_mock.settings import Project


def dsn(base_url: str, project: Project) -> str:
    """A Sentry DSN, `<scheme>://<public key>@<host>[:port][/path]/<project id>`."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{project.public_key}@{parts.netloc}{parts.path.rstrip('/')}/{project.id}"


async def list_projects(request: Request) -> Response:
    base_url: str = request.app.state.settings.public_url
    projects: dict[int, Project] = request.app.state.projects
    return ORJSONResponse(
        {
            "projects": [
                {"id": p.id, "name": p.name, "public_key": p.public_key, "dsn": dsn(base_url, p)}
                for p in sorted(projects.values(), key=lambda p: p.id)
            ]
        }
    )


routes = [Route("/inspect/projects", list_projects, methods=["GET"])]
