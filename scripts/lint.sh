#!/usr/bin/env bash
# `make lint`: ruff's checks and formatting, then mypy in strict mode (pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_venv
code=(servicekit api downstream relay-mock/relay_mock loadtest bench fuzz tests)
step "ruff"
.venv/bin/ruff check "${code[@]}"
.venv/bin/ruff format --check "${code[@]}"
step "mypy --strict"
.venv/bin/mypy servicekit api downstream relay-mock/relay_mock loadtest bench
