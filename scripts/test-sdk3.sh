#!/usr/bin/env bash
# The services' in-process suites (tests/servicekit, tests/services) on sentry-python 3, from
# .venv3. `make test` runs it after the main suite; `make test-sdk3` alone. Tests marked
# `sdk2_only` are deselected and listed with their reasons (docs/services.md: "sentry-python 3").
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_venv3
step "the services' suites on sentry-sdk $(.venv3/bin/python -c 'import sentry_sdk; print(sentry_sdk.VERSION)')"
exec timeout 600 .venv3/bin/python -m pytest tests/servicekit tests/services -m "not stack" -q "$@"
