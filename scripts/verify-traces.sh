#!/usr/bin/env bash
# `make verify-traces`: run relay-mock's verifier (the CLI in its image) against the running
# stack; the table goes to the terminal, JSON and JUnit reports to reports/.
#   SINCE (an age like 10m, epoch or ISO; default: everything stored)  UNTIL  TRACE  DEADLINE (30)
#   MAX_UNVERIFIED  unverified traces allowed: a count or a percentage like 2% (default 0)
#   EXPECT          the topology's expectations file (default expectations/sandbox.yaml; EXPECT= for none)
#   REPORTS_DIR     where the JSON and JUnit reports go (default reports; the stack tests use their own)
# Exit status: 0 passed, 1 failed, 3 inconclusive (nothing failed, too many traces unverified;
# or nothing to verify: no trace and no expectation in the window),
# 2 relay-mock unreachable or a bad setting.
set -euo pipefail
cd "$(dirname "$0")/.."
reports=${REPORTS_DIR:-reports}
mkdir -p "$reports"
expect=${EXPECT-expectations/sandbox.yaml}
# The services' SDKs are flushed first: they send client reports only with a later envelope,
# so the drops of a load run's last seconds would otherwise never be counted.
args=(--url http://relay-mock:9000 verify --deadline "${DEADLINE:-30}" --max-unverified "${MAX_UNVERIFIED:-0}"
      --flush http://api:8000/test-flush --flush http://downstream:8001/test-flush
      --json /reports/verify-traces.json --junit /reports/verify-traces.junit.xml --show-as "$reports")
mounts=(-v "$(cd "$reports" && pwd):/reports")
if [ -n "$expect" ]; then
  if [ ! -r "$expect" ]; then
    echo "EXPECT=$expect: no such file (point it at an expectations file, or set EXPECT= for none)" >&2
    exit 2
  fi
  mounts+=(-v "$(cd "$(dirname "$expect")" && pwd)/$(basename "$expect"):/expect.yaml:ro")
  args+=(--expect /expect.yaml)
fi
[ -n "${SINCE:-}" ] && args+=(--since "$SINCE")
[ -n "${UNTIL:-}" ] && args+=(--until "$UNTIL")
[ -n "${TRACE:-}" ] && args+=(--trace-id "$TRACE")
tty=(); [ -t 1 ] || tty=(-T)
exec docker compose run --rm --no-deps "${tty[@]}" --user "$(id -u):$(id -g)" "${mounts[@]}" \
  relay-mock "${args[@]}"
