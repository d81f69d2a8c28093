"""Run a service: read settings, configure logging, configure Sentry, build the app, serve."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from servicekit.loggers import configure_logging
from servicekit.sentry import configure_sentry
from servicekit.settings import ServiceSettings, load_settings

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def serve(settings_cls: type[SettingsT], create_app: Callable[[SettingsT], FastAPI]) -> None:
    settings = load_settings(settings_cls)
    configure_logging(settings.service_name, settings.log_level)
    configure_sentry(settings)
    app = create_app(settings)
    uvicorn.run(
        app,
        host="0.0.0.0",  # noqa: S104 - inside a container; compose publishes on 127.0.0.1 only
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        # Deliberate limits (see docs/resilience.md): cap concurrent connections so a flood
        # gets fast 503s instead of exhausting memory, and drop idle keep-alives.
        limit_concurrency=1000,
        backlog=2048,
        timeout_keep_alive=15,
        h11_max_incomplete_event_size=16 * 1024,
    )
