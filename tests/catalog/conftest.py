"""catalog in process: its real OpenTelemetry setup (providers, propagators, instrumentations,
sentry-sdk's OTLPIntegration in `sentry` mode) with in-memory exporters in place of OTLP/HTTP,
and a dict in place of its Postgres table (httpx's ASGI transport runs no lifespan)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from catalog.app import create_app
from catalog.settings import CatalogSettings
from catalog.telemetry import Telemetry, configure_telemetry
from tests.support.projects import CATALOG
from tests.support.sentry_client import shut_down_sentry

DSN = CATALOG.dsn("http://relay.invalid:9000")


class DictStock:
    def __init__(self, stock: dict[str, int]) -> None:
        self.stock = stock

    async def available(self, sku: str) -> int | None:
        return self.stock.get(sku)


@dataclass
class Catalog:
    app: FastAPI
    telemetry: Telemetry
    spans: InMemorySpanExporter
    logs: InMemoryLogRecordExporter

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(self.app), base_url="http://catalog:8002")

    def server_span(self) -> Any:
        servers = [s for s in self.spans.get_finished_spans() if s.kind.name == "SERVER"]
        assert len(servers) == 1, [s.name for s in self.spans.get_finished_spans()]
        return servers[0]


StartCatalog = Callable[..., Catalog]


@pytest.fixture
def start_catalog() -> Iterator[StartCatalog]:
    started: list[Catalog] = []

    def start(propagation: str, **overrides: Any) -> Catalog:
        settings = CatalogSettings(
            catalog_propagation=propagation,
            sentry_dsn=DSN,
            environment="test",
            app_version="9.9.9",
            **overrides,
        )
        spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        telemetry = configure_telemetry(settings, span_exporter=spans, log_exporter=logs)
        app = create_app(settings, telemetry, stock=DictStock({"SKU-1": 7}))
        catalog = Catalog(app, telemetry, spans, logs)
        started.append(catalog)
        return catalog

    try:
        yield start
    finally:
        for catalog in started:
            catalog.telemetry.shutdown()
        shut_down_sentry()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
