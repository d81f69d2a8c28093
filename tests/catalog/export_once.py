"""Run by test_export.py in a process of its own (OpenTelemetry's global tracer provider is set
once per process, as in catalog's container): catalog's real telemetry setup from the
environment, one request through its app (a dict for stock), then the exporters' final flush."""

from __future__ import annotations

import asyncio
import json
import sys

import httpx

from catalog.app import create_app
from catalog.settings import CatalogSettings
from catalog.telemetry import configure_telemetry
from servicekit.settings import load_settings
from tests.catalog.conftest import DictStock


async def main(headers: dict[str, str]) -> None:
    settings = load_settings(CatalogSettings)
    telemetry = configure_telemetry(settings)
    app = create_app(settings, telemetry, stock=DictStock({"SKU-1": 7}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://catalog:8002") as client:
        response = await client.get("/stock/SKU-1", headers=headers)
    print(json.dumps({"status": response.status_code, "witness": response.headers.get("x-sandbox-witness")}))
    telemetry.shutdown()  # what the app's lifespan does at the end: export what is queued


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
