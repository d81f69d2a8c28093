"""Process entry: settings (a bad one stops here, named), logging, OpenTelemetry, the app."""

from __future__ import annotations

import uvicorn

from catalog.app import create_app
from catalog.settings import CatalogSettings
from catalog.telemetry import configure_telemetry
from servicekit.loggers import configure_logging
from servicekit.server import BoundedHeadersProtocol, KeepAliveAfterErrors
from servicekit.settings import load_settings


def main() -> None:
    settings = load_settings(CatalogSettings)
    configure_logging(settings.service_name, settings.log_level)
    telemetry = configure_telemetry(settings)
    app = KeepAliveAfterErrors(create_app(settings, telemetry))
    uvicorn.run(
        app,
        host="0.0.0.0",  # noqa: S104 - inside a container; compose publishes nothing of catalog's
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        http=BoundedHeadersProtocol,
        limit_concurrency=1000,
        timeout_keep_alive=15,
    )


if __name__ == "__main__":
    main()
