#!/usr/bin/env bash
# `make test`: the whole suite. The tests start their own stack (compose project
# sentry-sandbox-test, its own ports) and tear it down at the end, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_venv
prepare_images
exec .venv/bin/python -m pytest "$@"
