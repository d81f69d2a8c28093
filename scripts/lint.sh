#!/usr/bin/env bash
# `make lint`: ruff's checks and formatting (the code, the tests, scripts/), mypy in strict mode
# (pyproject.toml) over the packages and the tests, then tsc over the web UI's JavaScript.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_venv
code=(servicekit api downstream catalog relay-mock/relay_mock loadtest bench fuzz tests)
step "ruff"
.venv/bin/ruff check "${code[@]}"
.venv/bin/ruff format --check "${code[@]}"
step "mypy --strict"
.venv/bin/mypy servicekit api downstream catalog relay-mock/relay_mock loadtest bench
# -- scripts/ under ruff and tests/ under mypy (issue 10)
# scripts/ holds tools run by hand or by make (chaos.py, screenshots.py); ruff takes its
# files by path, dashes in their names included. The tests get the packages' strict mypy:
# it catches a test calling what the code no longer has.
step "ruff: scripts"
.venv/bin/ruff check scripts
.venv/bin/ruff format --check scripts
step "mypy --strict: tests"
.venv/bin/mypy tests

# -- the web UI (issue 10): relay-mock/relay_mock/ui/*.js are `// @ts-check` modules with JSDoc
# types; tsc reads them with relay-mock/ui-check/tsconfig.json (strict) and writes nothing.
# The UI's types are generated from the OpenAPI document (scripts/gen_ui_types.py): regenerated
# into a temporary file and compared, so a model changed without `make ui-types` fails here.
step "the web UI's generated types (relay_mock/ui/api-types.d.ts) are current"
ui_types=$(mktemp)
trap 'rm -f "$ui_types"' EXIT
PYTHONPATH="$PWD:$PWD/relay-mock" .venv/bin/python scripts/gen_ui_types.py --output "$ui_types" >/dev/null
if ! diff -u relay-mock/relay_mock/ui/api-types.d.ts "$ui_types"; then
  echo "relay-mock/relay_mock/ui/api-types.d.ts is stale (the OpenAPI document changed): run \`make ui-types\` and commit it" >&2
  exit 1
fi

step "tsc --noEmit (relay-mock's web UI)"
ensure_ui_check
"$UI_CHECK/node_modules/.bin/tsc" --noEmit --project "$UI_CHECK/tsconfig.json"
