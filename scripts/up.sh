#!/usr/bin/env bash
# Build and start the sandbox, wait until every service reports healthy, print the URLs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

prepare_images
step "building images"
if ! compose build --quiet; then
  if [ "${OFFLINE:-0}" != 1 ]; then
    echo "the build failed; if it could not pull base images (no registry reachable)," >&2
    echo "build on local ones made from Debian packages instead:  OFFLINE=1 make up" >&2
  fi
  exit 1
fi
step "starting the stack (waiting for every healthcheck)"
if ! compose up -d --wait --wait-timeout "${WAIT_TIMEOUT:-240}"; then
  echo "the stack did not become healthy; last logs:" >&2
  compose ps >&2 || true
  compose logs --tail 40 >&2 || true
  exit 1
fi
compose ps --format 'table {{.Service}}\t{{.Status}}'
cat <<URLS

  Sentry sandbox is up ($(project_name)):
    api           http://127.0.0.1:${API_PORT:-8000}/docs
    downstream    http://127.0.0.1:${DOWNSTREAM_PORT:-8001}/docs
    relay-mock    http://127.0.0.1:${RELAY_PORT:-9000}/          (captured envelopes, traces, errors)
    Locust        http://127.0.0.1:${LOCUST_PORT:-8089}/

  Try:  curl -X POST 127.0.0.1:${API_PORT:-8000}/orders -H 'content-type: application/json' -d '{"sku":"SKU-1","quantity":1}'
  Then: make verify-traces   |   make envelopes   |   make tail
URLS
