#!/usr/bin/env bash
# Fuzz relay-mock's ingest pipeline (fuzz/fuzz_ingest.py, atheris) for RUNS inputs, from fuzz/corpus.
# FUZZ_TARGET=otlp fuzzes the OTLP/HTTP ingest instead (fuzz/fuzz_otlp.py, from the otlp-* seeds).
#   scripts/fuzz.sh [RUNS] [libFuzzer flags...]        RUNS defaults to 100000; -runs=-1 is endless
# New interesting inputs and crashers go to a scratch directory (FUZZ_OUT, default a fresh temp dir),
# never into the repository: copy a crasher into fuzz/corpus/ once it is fixed, so CI replays it.
# FUZZ_TIMEOUT (s per input, default 10), FUZZ_RSS_MB (default 2048), FUZZ_MAX_LEN (default 16384).
set -euo pipefail
cd "$(dirname "$0")/.."

target=fuzz_${FUZZ_TARGET:-ingest}
case $target in fuzz_ingest | fuzz_otlp) ;; *) echo "FUZZ_TARGET must be ingest or otlp" >&2; exit 2 ;; esac
runs=${1:-100000}
[ $# -gt 0 ] && shift
out=${FUZZ_OUT:-$(mktemp -d -t relay-mock-fuzz.XXXXXX)}
mkdir -p "$out/corpus" "$out/crashes"
log="$out/fuzz.log"

source scripts/lib.sh
ensure_venv >&2

start=$(date +%s)
status=0
# The first directory receives new inputs; fuzz/corpus is only read.
PYTHONPATH=relay-mock:. .venv/bin/python "fuzz/$target.py" \
  -runs="$runs" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
  -max_len="${FUZZ_MAX_LEN:-16384}" -dict=fuzz/envelope.dict -print_final_stats=1 \
  -artifact_prefix="$out/crashes/" "$@" "$out/corpus" fuzz/corpus >"$log" 2>&1 || status=$?
elapsed=$(($(date +%s) - start))

stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
crashes=$(find "$out/crashes" -type f | wc -l)
echo "$target: ${elapsed}s, $(stat number_of_executed_units) inputs, $(stat average_exec_per_sec) exec/s," \
  "$(stat new_units_added) new inputs, peak RSS $(stat peak_rss_mb) MB, coverage: $(grep -o 'cov: [0-9]*' "$log" | tail -1)"
echo "corpus from fuzz/corpus ($(find fuzz/corpus -type f | wc -l) files) + $(find "$out/corpus" -type f | wc -l) new, in $out/corpus"
if [ "$crashes" -gt 0 ] || [ "$status" -ne 0 ]; then
  echo "FAILED (exit $status): $crashes crasher(s) in $out/crashes; the log is $log" >&2
  grep -m1 -A30 -E "Uncaught Python exception|ERROR: libFuzzer" "$log" >&2 || tail -30 "$log" >&2
  exit 1
fi
echo "no crash; the log is $log"
