#!/usr/bin/env bash
# `make verify-traces`: run relay-mock's verifier (the CLI in its image) against the running
# stack; the table goes to the terminal, JSON and JUnit reports to reports/.
#   SINCE (an age like 10m, epoch or ISO; default: everything stored)  UNTIL  TRACE  DEADLINE (30)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p reports
# The services' SDKs are flushed first: they send client reports only with a later envelope,
# so the drops of a load run's last seconds would otherwise never be counted.
args=(--url http://relay-mock:9000 verify --deadline "${DEADLINE:-30}"
      --flush http://api:8000/test-flush --flush http://downstream:8001/test-flush
      --json /reports/verify-traces.json --junit /reports/verify-traces.junit.xml)
[ -n "${SINCE:-}" ] && args+=(--since "$SINCE")
[ -n "${UNTIL:-}" ] && args+=(--until "$UNTIL")
[ -n "${TRACE:-}" ] && args+=(--trace-id "$TRACE")
tty=(); [ -t 1 ] || tty=(-T)
exec docker compose run --rm --no-deps "${tty[@]}" --user "$(id -u):$(id -g)" -v "$PWD/reports:/reports" \
  relay-mock "${args[@]}"
