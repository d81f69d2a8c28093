#!/usr/bin/env bash
# `make test`: the whole suite. The tests start their own stack (compose project
# sentry-sandbox-test, its own ports) and tear it down at the end, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_venv
# The web UI's tests need a Chromium: stop now, saying how to get one, rather than fail later.
if ! missing=$(.venv/bin/python -c 'from tests.support.chromium import missing_chromium as m; print(m() or "")') || [ -n "$missing" ]; then
  echo "make test: ${missing:-cannot look for Chromium}" >&2
  exit 2
fi
prepare_images
exec .venv/bin/python -m pytest "$@"
