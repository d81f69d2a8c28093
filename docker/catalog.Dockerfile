# catalog, the OpenTelemetry service (compose profile `otel`): the services' recipe with its own
# pinned requirements (the services' plus the OpenTelemetry SDK, exporter and instrumentations).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS deps
COPY docker/install-requirements.sh requirements/catalog.txt /tmp/
COPY wheelhouse/ /tmp/wheelhouse/
RUN sh /tmp/install-requirements.sh /tmp/catalog.txt

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
# catalog shares servicekit's settings, database engine, logging, server and witness.
COPY servicekit/ servicekit/
COPY catalog/ catalog/
USER 10001
CMD ["python", "-m", "catalog"]
