#!/usr/bin/env bash
# Run a project Python tool in .venv (created on first use), with the packages on the path.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_venv >&2
export PYTHONPATH="$PWD:$PWD/relay-mock${PYTHONPATH:+:$PYTHONPATH}"
exec .venv/bin/python "$@"
