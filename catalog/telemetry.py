"""catalog's OpenTelemetry: one tracer provider and one logger provider for the process, both
exporting over OTLP/HTTP to the DSN's project (relay-mock, as Sentry's ingest would take them),
and the propagator CATALOG_PROPAGATION names.

- `sentry`: the setup Sentry documents for OpenTelemetry users. sentry-sdk is initialised with
  its `OTLPIntegration`, which finds our tracer provider, adds a batch processor exporting to
  `/api/{project}/integration/otlp/v1/traces/` with `X-Sentry-Auth`, and installs Sentry's
  propagator: incoming `sentry-trace` + `baggage` are continued, outgoing calls carry them.
- `w3c`: plain OpenTelemetry, no sentry-sdk. We add the OTLP exporter ourselves (same URL and
  auth) and install the W3C tracecontext + baggage propagators: `traceparent` in and out. A
  Sentry-instrumented caller sends no `traceparent`, so catalog starts a trace of its own.

Logs take the same road in both modes: records of the `catalog` logger leave as OTLP log records
(`/v1/logs/`) with the trace and span ids of the span they were written in; sentry-sdk sends no
logs here.

The FastAPI, httpx and SQLAlchemy instrumentations make the spans: a server span per request, a
client span per httpx call (which is what propagates), a span per query.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import sentry_sdk
from fastapi import FastAPI
from opentelemetry import propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sentry_sdk.integrations.otlp import OTLPIntegration, SentryOTLPPropagator
from sqlalchemy.ext.asyncio import AsyncEngine

from catalog.settings import CatalogSettings

# The logger whose records leave as OTLP logs (catalog's own modules log under it).
LOGGER_NAME = "catalog"
# Probed every 2 s by the container healthcheck: a trace per probe would bury the real ones.
EXCLUDED_URLS = "/health"


@dataclass(frozen=True)
class OtlpTarget:
    """Where the OTLP exporters send, derived from the DSN as sentry-sdk derives it."""

    traces_url: str
    logs_url: str
    headers: dict[str, str]

    @classmethod
    def from_dsn(cls, dsn: str, client: str) -> OtlpTarget:
        parts = urlsplit(dsn)
        project = parts.path.rstrip("/").rsplit("/", 1)[-1]
        prefix = parts.path.rstrip("/").rsplit("/", 1)[0]
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        base = f"{parts.scheme}://{netloc}{prefix}/api/{project}/integration/otlp/v1"
        auth = f"Sentry sentry_key={parts.username}, sentry_version=7, sentry_client={client}"
        return cls(traces_url=f"{base}/traces/", logs_url=f"{base}/logs/", headers={"X-Sentry-Auth": auth})


@dataclass
class Telemetry:
    settings: CatalogSettings
    tracer_provider: TracerProvider
    logger_provider: LoggerProvider
    log_handler: LoggingHandler
    _engines: list[AsyncEngine] = field(default_factory=list)

    def instrument_app(self, app: FastAPI) -> None:
        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=self.tracer_provider,
            excluded_urls=EXCLUDED_URLS,
            # ASGI's per-message `receive`/`send` spans say nothing about the request.
            exclude_spans=["receive", "send"],
        )

    def instrument_engine(self, engine: AsyncEngine) -> None:
        # The instrumentation declares SQLAlchemy < 2.1 and, without skip_dep_check, instruments
        # nothing on 2.1 (silently: one log line). The engine events it listens to are the same
        # in 2.1; tests/catalog/test_propagation.py proves the query spans are made.
        SQLAlchemyInstrumentor().instrument(
            engine=engine.sync_engine, tracer_provider=self.tracer_provider, skip_dep_check=True
        )
        self._engines.append(engine)

    def shutdown(self) -> None:
        """Export what is still queued, then stop (the end of the process, or of a test)."""
        logging.getLogger(LOGGER_NAME).removeHandler(self.log_handler)
        HTTPXClientInstrumentor().uninstrument()
        if self._engines:
            SQLAlchemyInstrumentor().uninstrument()
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()
        if self.settings.catalog_propagation == "sentry":
            sentry_sdk.get_client().close(timeout=5)


def configure_telemetry(
    settings: CatalogSettings,
    *,
    span_exporter: SpanExporter | None = None,
    log_exporter: LogRecordExporter | None = None,
) -> Telemetry:
    """Set catalog's OpenTelemetry up for the process. Exporters given (tests) replace the OTLP
    ones and export each span and record as it ends; the propagators are the real ones."""
    resource = Resource.create(
        {
            "service.name": settings.service_name,
            "service.version": settings.app_version,
            "deployment.environment.name": settings.environment,
        }
    )
    dsn = settings.sentry_dsn
    target = OtlpTarget.from_dsn(dsn, f"catalog/{settings.app_version}") if dsn else None
    tracer_provider = TracerProvider(
        resource=resource, sampler=ParentBased(TraceIdRatioBased(settings.sentry_traces_sample_rate))
    )
    # The global provider is what OTLPIntegration looks for and adds its exporter to (and what
    # FastAPI's own telemetry traces every handler with). OpenTelemetry lets a process set it
    # once; the instrumentations are given ours explicitly all the same. With a test's exporter
    # the process's global stays as it was: every FastAPI app of a test process would otherwise
    # send spans to a provider the test has shut down.
    if span_exporter is None and not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(tracer_provider)
    ours_is_global = trace.get_tracer_provider() is tracer_provider

    if settings.catalog_propagation == "sentry":
        # As Sentry documents it: OTLPIntegration adds a batch processor exporting to the DSN's
        # OTLP URL with X-Sentry-Auth, and installs Sentry's propagator. (Not with a test's exporter.)
        exported_by_sentry = span_exporter is None and target is not None and ours_is_global
        sentry_sdk.init(
            dsn=settings.sentry_dsn,
            release=settings.release,
            environment=settings.environment,
            integrations=[OTLPIntegration(setup_otlp_traces_exporter=exported_by_sentry)],
            # OTel's instrumentations make catalog's spans; sentry-sdk's own FastAPI, httpx and
            # SQLAlchemy integrations would make a second, Sentry-format copy of each request.
            auto_enabling_integrations=False,
        )
        # The integration installs this propagator once per process (sentry-sdk sets integrations
        # up once); a process that configures again (the tests) needs it installed again.
        propagate.set_global_textmap(SentryOTLPPropagator())
        if span_exporter is None and target is not None and not exported_by_sentry:
            tracer_provider.add_span_processor(
                BatchSpanProcessor(OTLPSpanExporter(endpoint=target.traces_url, headers=target.headers))
            )
    else:
        propagate.set_global_textmap(CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()]))
        if span_exporter is None and target is not None:
            tracer_provider.add_span_processor(
                BatchSpanProcessor(OTLPSpanExporter(endpoint=target.traces_url, headers=target.headers))
            )
    if span_exporter is not None:
        tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))

    logger_provider = LoggerProvider(resource=resource)
    if log_exporter is not None:
        logger_provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    elif target is not None:
        logger_provider.add_log_record_processor(
            BatchLogRecordProcessor(OTLPLogExporter(endpoint=target.logs_url, headers=target.headers))
        )
    handler = LoggingHandler(level=logging.INFO, logger_provider=logger_provider)
    own = logging.getLogger(LOGGER_NAME)
    own.addHandler(handler)
    # The lookup lines are INFO and are the point of the OTLP logs, whatever LOG_LEVEL the root has.
    own.setLevel(logging.INFO)

    HTTPXClientInstrumentor().instrument(tracer_provider=tracer_provider)
    return Telemetry(settings, tracer_provider, logger_provider, handler)


def current_span() -> tuple[bool | None, str | None]:
    """The witness's view of catalog's own span for the request (servicekit.witness.OwnSpan):
    whether it is sampled and its trace id; None, None outside a span."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None, None
    return context.trace_flags.sampled, trace.format_trace_id(context.trace_id)
