# api and downstream share this recipe; the SERVICE build argument picks the package.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS deps
COPY docker/install-requirements.sh requirements/service.txt /tmp/
COPY wheelhouse/ /tmp/wheelhouse/
RUN sh /tmp/install-requirements.sh /tmp/service.txt

FROM ${PYTHON_IMAGE}
ARG SERVICE
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SERVICE=${SERVICE}
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY servicekit/ servicekit/
COPY ${SERVICE}/ ${SERVICE}/
USER 10001
CMD ["sh", "-c", "exec python -m \"$SERVICE\""]
