"""relay-mock's settings, from `RELAY_*` environment variables.

Projects come from `RELAY_PROJECT_<NAME>=<DSN>` (one per project; the DSN gives the
project id and public key, NAME names the service in the UI). Without any, the
sandbox's three default projects are configured.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from relay_mock.sandbox_projects import API, DOWNSTREAM, PLAYGROUND

PROJECT_PREFIX = "RELAY_PROJECT_"
_HOST_NAME = re.compile(r"\*|[A-Za-z0-9._-]+|\[?[0-9A-Fa-f:.]+\]?")

# Without RELAY_PROJECT_* (compose sets all four, catalog included).
DEFAULT_PROJECTS = {project.name: project.dsn() for project in (API, DOWNSTREAM, PLAYGROUND)}


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
    # (docs/what-sentry-stores.md), and the time Relay's code may take over one item before it counts as failed.
    scrubbing: str | None = None
    store_view_budget_s: float = Field(2.0, gt=0, le=60)
    # false: no background worker (no verdicts, leaks or stats); the endpoint still computes on read.
    store_view: bool = True

    # Forwarding to a real Sentry (relay_mock/forwarding/): a JSON object, or `@path` to a JSON
    # file, mapping a project name (or `*`) to an upstream DSN. Off when unset; checked at start
    # by load_forwarding(), which needs the projects.
    forward: SecretStr | None = None
    # A forwarded envelope the upstream has not taken by then (5xx, unreachable) is expired.
    forward_max_age: float = Field(24 * 3600.0, gt=0, le=30 * 24 * 3600)

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


# Plain http is refused for an upstream (the DSN's key and the envelopes would cross the network
# in clear) except to loopback and to the compose network's own services.
COMPOSE_NAMES = frozenset({"relay-mock", "api", "downstream", "locust", "db", "catalog", "upstream"})
FORWARD_VARIABLE = "RELAY_FORWARD"


@dataclass(frozen=True)
class Upstream:
    """Where one project's envelopes go: only these hosts are ever contacted by the forwarder."""

    dsn: str  # kept whole only for the rewritten envelope header; shown masked everywhere else
    scheme: str
    netloc: str  # host[:port], without the key
    path_prefix: str  # a DSN's path before the project id (a Sentry behind a path)
    project_id: int
    public_key: str

    @property
    def envelope_path(self) -> str:
        return f"{self.path_prefix}/api/{self.project_id}/envelope/"

    @property
    def envelope_url(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.envelope_path}"

    @property
    def masked(self) -> str:
        """The DSN with its key masked: what logs, the inspection API and the UI show."""
        return f"{self.scheme}://{mask_key(self.public_key)}@{self.netloc}{self.path_prefix}/{self.project_id}"


def mask_key(key: str) -> str:
    return key[:4] + "…" if len(key) > 8 else "…"


def load_forwarding(value: str | None, projects: dict[int, Project]) -> dict[int, Upstream]:
    """RELAY_FORWARD as the upstream of each forwarded project id; {} when forwarding is off.

    A bad value stops relay-mock naming the variable and the entry, never the DSN's key."""
    if value is None or not value.strip():
        return {}
    text = value.strip()
    source = FORWARD_VARIABLE
    if text.startswith("@"):
        source = f"{FORWARD_VARIABLE} (file {text[1:]})"
        try:
            text = Path(text[1:]).read_text()
        except OSError as exc:
            raise SystemExit(f"invalid configuration: {source}: cannot read it ({exc.strerror})") from None
    try:
        mapping = json.loads(text)
    except ValueError:
        # The message of a JSON error quotes the text around it, which may hold a key.
        raise SystemExit(f"invalid configuration: {source}: not a JSON object of project name to DSN") from None
    if not isinstance(mapping, dict) or not mapping:
        raise SystemExit(f"invalid configuration: {source}: expected a non-empty JSON object of project name to DSN")
    by_name = {project.name: project for project in projects.values()}
    upstreams: dict[int, Upstream] = {}
    wildcard: Upstream | None = None
    for name, dsn in mapping.items():
        where = f"{source} entry {name!r}"
        if name != "*" and name not in by_name:
            known = ", ".join(sorted(by_name))
            raise SystemExit(f"invalid configuration: {where}: no such project (configured: {known}, or *)")
        upstream = _upstream(dsn, where)
        if name == "*":
            wildcard = upstream
        else:
            upstreams[by_name[name].id] = upstream
    if wildcard is not None:
        for project_id in projects:
            upstreams.setdefault(project_id, wildcard)
    return upstreams


def _upstream(dsn: object, where: str) -> Upstream:
    form = "a DSN like https://<key>@o0.ingest.sentry.io/<project id>"
    if not isinstance(dsn, str):
        raise SystemExit(f"invalid configuration: {where}: expected {form}")
    try:
        parts = urlsplit(dsn.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        raise SystemExit(f"invalid configuration: {where}: expected {form}") from None
    prefix, _, project_id = parts.path.rstrip("/").rpartition("/")
    if parts.scheme not in ("http", "https") or not host or not parts.username or not _DIGITS.fullmatch(project_id):
        raise SystemExit(f"invalid configuration: {where}: expected {form}")
    if parts.query or parts.fragment:
        raise SystemExit(f"invalid configuration: {where}: a DSN has no query or fragment")
    if parts.scheme == "http" and not _local(host):
        raise SystemExit(
            f"invalid configuration: {where}: http to {host} would send the key and the envelopes in clear;"
            " use https (http is allowed to loopback and the compose network's services only)"
        )
    netloc = f"[{host}]" if ":" in host else host
    return Upstream(
        dsn=dsn.strip(),
        scheme=parts.scheme,
        netloc=netloc + (f":{port}" if port else ""),
        path_prefix=prefix,
        project_id=int(project_id),
        public_key=parts.username,
    )


def _local(host: str) -> bool:
    if host == "localhost" or host in COMPOSE_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_DIGITS = re.compile(r"[0-9]{1,18}")


def load_settings() -> RelaySettings:
    try:
        return RelaySettings()
    except ValidationError as exc:
        lines = [
            f"  RELAY_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            + ("" if {"inspect_token", "forward"} & set(map(str, err["loc"])) else f" (got {err.get('input')!r})")
            for err in exc.errors()
        ]
        raise SystemExit("invalid configuration:\n" + "\n".join(lines)) from None
