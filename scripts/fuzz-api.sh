#!/usr/bin/env bash
# Fuzz the running services' OpenAPI schemas with schemathesis (start the stack with make up).
# No 5xx but from /test-error, invalid input refused, every 422 naming the field.
#   MAX_EXAMPLES (50 per operation)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_venv >&2
status=0
for service in "api:${API_PORT:-8000}" "downstream:${DOWNSTREAM_PORT:-8001}"; do
  name=${service%%:*}; port=${service##*:}
  step "schemathesis: $name"
  SCHEMATHESIS_HOOKS=tests.fuzz_api.hooks PYTHONPATH=$PWD .venv/bin/python -m schemathesis.cli run \
    "http://127.0.0.1:$port/openapi.json" \
    --checks not_a_server_error,negative_data_rejection,validation_names_the_field \
    --exclude-path /test-error --phases examples,coverage,fuzzing \
    --max-examples "${MAX_EXAMPLES:-50}" --generation-database none || status=1
done
exit "$status"
