#!/usr/bin/env bash
# Headless Locust against the running stack; CSV and HTML reports land in reports/.
#   USERS (50)  RATE (spawn rate, 10/s)  DURATION (60s)  WORKERS (0 = one process)
# WORKERS=N runs Locust distributed: a master and N worker containers.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

users=${USERS:-50}
rate=${RATE:-10}
duration=${DURATION:-60s}
workers=${WORKERS:-0}
stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p reports
prefix="/reports/locust-$stamp"

run_locust() {  # extra docker compose run arguments, then locust arguments
  compose run --no-deps --user "$(id -u):$(id -g)" -v "$PWD/reports:/reports" "$@"
}

step "Locust: $users users, spawn rate $rate/s, for $duration against api ($([ "$workers" -gt 0 ] && echo "$workers workers" || echo "one process"))"
common=(--headless -u "$users" -r "$rate" -t "$duration" --host http://api:8000 --csv "$prefix" --html "$prefix.html" --only-summary)
if [ "$workers" -gt 0 ]; then
  # The master is kept after it exits (no --rm) so its summary can be read; the trap removes it.
  master=sandbox-locust-master-$$
  run_locust --name "$master" -d locust --master --expect-workers "$workers" "${common[@]}" >/dev/null
  trap 'docker rm -f "$master" >/dev/null 2>&1 || true' EXIT
  for i in $(seq "$workers"); do
    run_locust --rm -d locust --worker --master-host "$master" >/dev/null
  done
  docker wait "$master" >/dev/null || true
  docker logs "$master" 2>&1 | tail -n 40
else
  run_locust --rm locust "${common[@]}"
fi
echo "reports: reports/locust-$stamp.html, reports/locust-${stamp}_stats.csv"
