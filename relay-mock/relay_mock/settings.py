"""relay-mock's settings, from `RELAY_*` environment variables.

Projects come from `RELAY_PROJECT_<NAME>=<DSN>` (one per project; the DSN gives the
project id and public key, NAME names the service in the UI). Without any, the
sandbox's three default projects are configured.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_PREFIX = "RELAY_PROJECT_"

DEFAULT_PROJECTS = {
    "api": "http://a1f2c3d4e5f60718293a4b5c6d7e8f90@relay-mock:9000/1",
    "downstream": "http://b2e3d4c5f6a70819203b4c5d6e7f8091@relay-mock:9000/2",
    "playground": "http://c3d4e5f6a7b8091a2b3c4d5e6f708192@relay-mock:9000/3",
}


@dataclass(frozen=True)
class Project:
    id: int
    name: str
    public_key: str


class RelaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RELAY_", extra="ignore", frozen=True, env_ignore_empty=True)

    host: str = "0.0.0.0"  # noqa: S104 - inside a container; compose publishes on 127.0.0.1 only
    port: int = Field(9000, ge=1, le=65535)
    data_dir: Path = Path("/data")
    public_url: str = "http://127.0.0.1:9000"

    # Relay's limits: refused with 413 while reading and decompressing.
    max_compressed_bytes: int = Field(20 * 1024 * 1024, ge=1024)
    max_envelope_bytes: int = Field(100 * 1024 * 1024, ge=1024)
    # Relay's per-item limits: items over them are stored but flagged (Relay would drop them).
    max_event_bytes: int = Field(1024 * 1024, ge=1024)

    retention_max_envelopes: int = Field(500_000, ge=10)
    retention_max_bytes: int = Field(2 * 1024**3, ge=1024 * 1024)

    # Group commit: one fsync for up to this many envelopes.
    commit_batch_max: int = Field(1024, ge=1, le=100_000)
    # How long the writer lets a group gather before committing it (seconds).
    commit_delay: float = Field(0.005, ge=0, le=0.1)
    # FULL: an acknowledged envelope survives a power cut. NORMAL: it survives relay-mock being
    # killed, not the machine going down; measured about 20% faster (docs/benchmarks.md).
    synchronous: Literal["FULL", "NORMAL"] = "FULL"

    log_level: str = "INFO"

    # "What Sentry stores" (relay_view/): per-project data-scrubbing settings, JSON or a file path
    # (README), and the time Relay's code may take over one item before it counts as failed.
    scrubbing: str | None = None
    store_view_budget_s: float = Field(2.0, gt=0, le=60)
    # false: no background worker (no verdicts, leaks or stats); the endpoint still computes on read.
    store_view: bool = True

    @property
    def database_path(self) -> Path:
        return self.data_dir / "relay.sqlite3"


def load_projects(environ: dict[str, str] | None = None) -> dict[int, Project]:
    env = os.environ if environ is None else environ
    configured = {
        name.removeprefix(PROJECT_PREFIX).lower(): value
        for name, value in env.items()
        if name.startswith(PROJECT_PREFIX) and value.strip()
    }
    projects: dict[int, Project] = {}
    for name, dsn in (configured or DEFAULT_PROJECTS).items():
        parts = urlsplit(dsn.strip())
        project_id = parts.path.rstrip("/").rsplit("/", 1)[-1]
        if not parts.username or not project_id.isdigit():
            raise SystemExit(
                f"invalid configuration: {PROJECT_PREFIX}{name.upper()} must be a DSN like "
                f"http://<public key>@relay-mock:9000/<project id>, got {dsn!r}"
            )
        if int(project_id) in projects:
            raise SystemExit(f"invalid configuration: project id {project_id} is configured twice")
        projects[int(project_id)] = Project(int(project_id), name, parts.username)
    return projects


def load_settings() -> RelaySettings:
    try:
        return RelaySettings()
    except ValidationError as exc:
        lines = [
            f"  RELAY_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']} (got {err.get('input')!r})"
            for err in exc.errors()
        ]
        raise SystemExit("invalid configuration:\n" + "\n".join(lines)) from None
