# api and downstream share this recipe; the SERVICE build argument picks the package, and
# SENTRY_SDK the major of sentry-python (2: requirements/service.txt, 3: service-sdk3.txt).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS deps
ARG SERVICE
ARG SENTRY_SDK=2
COPY docker/install-requirements.sh requirements/service.txt requirements/service-sdk3.txt /tmp/
COPY wheelhouse/ /tmp/wheelhouse/
# compose passes API_SENTRY_SDK or DOWNSTREAM_SENTRY_SDK as SENTRY_SDK; anything else stops the build.
RUN case "$SENTRY_SDK" in \
      2) lock=/tmp/service.txt ;; \
      3) lock=/tmp/service-sdk3.txt ;; \
      *) echo "$(echo "${SERVICE:-service}" | tr a-z A-Z)_SENTRY_SDK (build argument SENTRY_SDK): expected 2 or 3, got '$SENTRY_SDK'" >&2; exit 1 ;; \
    esac \
 && sh /tmp/install-requirements.sh "$lock"

FROM ${PYTHON_IMAGE}
ARG SERVICE
ARG SENTRY_SDK=2
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 SERVICE=${SERVICE}
LABEL org.sentry-sandbox.sentry-sdk-major=${SENTRY_SDK}
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY servicekit/ servicekit/
COPY ${SERVICE}/ ${SERVICE}/
USER 10001
CMD ["sh", "-c", "exec python -m \"$SERVICE\""]
