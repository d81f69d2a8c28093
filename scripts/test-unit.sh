#!/usr/bin/env bash
# `make test-unit`: the quick loop while you work. relay-mock's protocol, store and inspection
# app, the verifier, servicekit and the services in-process: no Docker, no browser, no slow tests
# (about a minute on 2 cores). `make test` runs everything, these included.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_venv
exec .venv/bin/python -m pytest tests/relay_mock tests/verify tests/servicekit tests/services tests/catalog tests/loadtest tests/tooling \
  -m "not stack and not slow" "$@"
