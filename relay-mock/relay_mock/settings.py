"""relay-mock's settings, from `RELAY_*` environment variables.

Projects come from `RELAY_PROJECT_<NAME>=<DSN>` (one per project; the DSN gives the
project id and public key, NAME names the service in the UI). Without any, the
sandbox's three default projects are configured.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_PREFIX = "RELAY_PROJECT_"
_HOST_NAME = re.compile(r"\*|[A-Za-z0-9._-]+|\[?[0-9A-Fa-f:.]+\]?")

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

    # Group commit: one fsync for up to this many envelopes (those that queued up while the
    # previous commit was being written; a lone envelope is committed at once).
    commit_batch_max: int = Field(1024, ge=1, le=100_000)
    # FULL: an acknowledged envelope survives a power cut. NORMAL: it survives relay-mock being
    # killed, not the machine going down (docs/benchmarks.md has what each costs).
    synchronous: Literal["FULL", "NORMAL"] = "FULL"

    log_level: str = "INFO"

    # More names the inspection API, UI and MCP answer to, beyond loopback and `relay-mock`
    # (comma-separated; `*` answers any Host, which lets DNS-rebinding pages read everything).
    allowed_hosts: str = ""
    # When set, the UI, the inspection API and MCP ask for it (for a port published beyond loopback).
    inspect_token: SecretStr | None = None

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, value: str) -> str:
        for name in (part.strip() for part in value.split(",")):
            if name and not _HOST_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not a host name or address (no scheme, port or path)")
        return value

    @field_validator("inspect_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (try: openssl rand -hex 16)")
        return value

    @property
    def allowed_host_names(self) -> list[str]:
        return [part.strip() for part in self.allowed_hosts.split(",") if part.strip()]

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
        if int(project_id) == 0:
            # Project 0 is where envelopes posted to Spotlight's /stream go when no DSN names a project.
            raise SystemExit(
                f"invalid configuration: {PROJECT_PREFIX}{name.upper()}: project id 0 is reserved for spotlight"
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
            f"  RELAY_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            + ("" if "token" in str(err["loc"]) else f" (got {err.get('input')!r})")  # never echo a secret
            for err in exc.errors()
        ]
        raise SystemExit("invalid configuration:\n" + "\n".join(lines)) from None
