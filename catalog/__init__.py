"""catalog: a small stock service instrumented with OpenTelemetry, not sentry-sdk's tracing.

It answers `GET /stock/{sku}` (the shape downstream's next hop asks for) from a table of its own,
and exports its spans and logs over OTLP/HTTP to relay-mock (compose profile `otel`). How it
reads and writes trace context is CATALOG_PROPAGATION: `sentry` (sentry-sdk's OTLPIntegration,
Sentry's propagator: the trace continues) or `w3c` (plain OpenTelemetry: the trace splits)."""
