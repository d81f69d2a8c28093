"""Process entry: settings (a bad one stops here, named), logging, OpenTelemetry, the app."""

from __future__ import annotations

from catalog.app import create_app
from catalog.settings import CatalogSettings
from catalog.telemetry import configure_telemetry
from servicekit.loggers import configure_logging
from servicekit.server import run
from servicekit.settings import load_settings


def main() -> None:
    settings = load_settings(CatalogSettings)
    configure_logging(settings.service_name, settings.log_level)
    telemetry = configure_telemetry(settings)
    run(create_app(settings, telemetry), settings.port)


if __name__ == "__main__":
    main()
