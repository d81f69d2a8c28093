"""Settings read from the environment, shared by every service.

A bad value stops the process at start with a message naming the variable
(`load_settings`), instead of surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from servicekit.sdk_version import SDK_VERSION, SPANS_ONLY

DEVELOPMENT_SESSION_SECRET = "dev-only-session-secret-change-me"  # noqa: S105 - a known, refused-in-production default

SampleRate = Annotated[float, Field(ge=0.0, le=1.0)]


class SettingsError(SystemExit):
    """Raised at start when the environment holds an invalid setting."""


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True, env_ignore_empty=True)

    service_name: str = "service"
    environment: str = "development"
    app_version: str = "0.0.0-dev"
    port: int = Field(8000, ge=1, le=65535)
    database_url: str = "postgresql+asyncpg://sandbox:sandbox@127.0.0.1:55432/sandbox"
    database_pool_size: int = Field(10, ge=1, le=200)

    sentry_dsn: str | None = None
    sentry_enabled: bool = True
    sentry_traces_sample_rate: SampleRate = 1.0
    sentry_profile_session_sample_rate: SampleRate = 0.0
    # Deprecated since sentry-sdk 2.72; accepted and mapped onto the session rate with a warning.
    sentry_profiles_sample_rate: SampleRate | None = None
    sentry_attach_stacktrace: bool = True
    sentry_server_name: str | None = None
    sentry_log_breadcrumb_level: str = "INFO"
    sentry_log_event_level: str = "ERROR"
    # stdlib records at this level and above also leave as Sentry logs (`log` items).
    sentry_logs_level: str = "INFO"
    # "stream" sends spans as `span` items as they finish (sentry-sdk's trace_lifecycle="stream");
    # "transactions" is sentry-python 2's default, one transaction event per request. 3.x streams
    # only: there the default is "stream" and "transactions" is refused at start.
    sentry_trace_lifecycle: Literal["transactions", "stream"] = "stream" if SPANS_ONLY else "transactions"
    # Off is the documented switch that breaks outgoing trace propagation on purpose.
    sentry_propagate_traces: bool = True
    sentry_debug: bool = False
    # For `make bench-overhead` only: the SDK with the same integrations (active, the asyncio
    # one included) and sample rate, without this project's hooks, sampler and middleware.
    sentry_bare_sdk: bool = False
    # For the leak tests only (tests/relay_http/test_leaks.py): the hooks send events unscrubbed,
    # to show that relay-mock's leaks report finds what the scrubber would have caught.
    sentry_scrubbing: bool = True
    sentry_mcp_url: str | None = "http://relay-mock:9000/mcp"

    allowed_hosts: Annotated[list[str], NoDecode] = ["*"]
    session_secret: str = DEVELOPMENT_SESSION_SECRET
    user_header: str = "x-user-id"

    # Per-service fault switches (per-request ones travel in the X-Sandbox-Fault header).
    fault_error_rate: SampleRate = 0.0
    fault_latency_ms: int = Field(0, ge=0, le=120_000)

    log_level: str = "INFO"

    @property
    def release(self) -> str:
        return f"{self.service_name}@{self.app_version}"

    @property
    def streams_spans(self) -> bool:
        return self.sentry_trace_lifecycle == "stream"

    @property
    def is_production(self) -> bool:
        return self.environment.lower() in {"production", "prod"}

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [host.strip() for host in value.split(",") if host.strip()]
        return value

    @field_validator("sentry_dsn")
    @classmethod
    def _check_dsn(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        project = parts.path.rstrip("/").rsplit("/", 1)[-1]
        if parts.scheme not in {"http", "https"}:
            raise ValueError("a DSN starts with http:// or https://")
        if not parts.username:
            raise ValueError("a DSN carries the public key before the '@'")
        if not parts.hostname:
            raise ValueError("a DSN names a host")
        if not project.isdigit():
            raise ValueError("a DSN ends with a numeric project id")
        return value

    @field_validator("sentry_log_breadcrumb_level", "sentry_log_event_level", "sentry_logs_level", "log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("use one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("service_name")
    @classmethod
    def _check_service_name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9-]*", value):
            raise ValueError("lowercase letters, digits and '-' only")
        return value

    @field_validator("sentry_trace_lifecycle")
    @classmethod
    def _check_lifecycle(cls, value: str) -> str:
        if SPANS_ONLY and value == "transactions":
            raise ValueError(
                f"sentry-sdk {SDK_VERSION} sends spans only (no transactions); use stream, or sentry-sdk 2"
            )
        return value

    @model_validator(mode="after")
    def _check_production(self) -> Self:
        if self.is_production and self.session_secret == DEVELOPMENT_SESSION_SECRET:
            raise ValueError("SESSION_SECRET: production refuses the development default; set a secret of your own")
        return self

    @property
    def profile_session_sample_rate(self) -> float:
        """The continuous-profiling rate; the deprecated per-transaction name maps onto it."""
        if self.sentry_profiles_sample_rate is not None:
            return self.sentry_profiles_sample_rate
        return self.sentry_profile_session_sample_rate


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def load_settings(cls: type[SettingsT], **overrides: object) -> SettingsT:
    """Read settings from the environment, exiting with a readable message on bad input."""
    try:
        return cls(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = str(error["msg"]).removeprefix("Value error, ")
            if not error["loc"]:
                # A check across settings names its variables itself; its input is every
                # setting read (database password included), which must not reach the logs.
                lines.append(f"  {message}")
                continue
            name = "_".join(str(part) for part in error["loc"]).upper()
            lines.append(f"  {name}: {message} (got {error.get('input')!r})")
        raise SettingsError("invalid configuration:\n" + "\n".join(lines)) from None
