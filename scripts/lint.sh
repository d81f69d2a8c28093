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

# ---- the web UI (issue 10): relay-mock/relay_mock/ui/*.js are `// @ts-check` modules with JSDoc
# types; tsc reads them with relay-mock/ui-check/tsconfig.json (strict) and writes nothing.
step "tsc --noEmit (relay-mock's web UI)"
ensure_ui_check
"$UI_CHECK/node_modules/.bin/tsc" --noEmit --project "$UI_CHECK/tsconfig.json"
