#!/usr/bin/env bash
# `make test`: the whole suite. The tests start their own stack (compose project
# sentry-sandbox-test, its own ports) and tear it down at the end, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_venv
# The web UI's tests need a Chromium: stop now, saying how to get one, rather than fail later.
if ! browser=$(.venv/bin/python -m tests.support.chromium 2>&1); then
  echo "make test: $browser" >&2
  exit 2
fi
step "Chromium for the browser tests: $browser"
prepare_images
status=0
.venv/bin/python -m pytest "$@" || status=$?
# The services' seed-feature suites again, on sentry-python 3 (in process, about a minute);
# the tests that hold only on 2.x are listed at the end of its output with their reasons.
if [ $# -eq 0 ]; then
  scripts/test-sdk3.sh || status=$?
fi
exit "$status"
