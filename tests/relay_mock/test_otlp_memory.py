"""Hostile OTLP bodies stay within the memory an envelope may cost.

Protobuf decoding materialises a whole request at once, so a body of millions of empty array
values is the OTLP worst case (about 25 bytes of memory per byte). relay-mock holds OTLP bodies
to 8 MiB decoded (protocol/otlp.py), the budget it parses of one envelope's JSON payloads; this
compares the peak of each worst case, each in a fresh interpreter, through the fuzz targets'
oracles (the whole of ingest short of the store)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "fuzz" / "corpus"

_CHILD = """
import json, sys
from fuzz import fuzz_ingest, fuzz_otlp

def peak_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])

if sys.argv[1] == "envelope":
    # The envelope path's worst case: an event of 8 MiB of "[]," (its JSON index budget).
    payload = b"[" + b"[]," * (8 * 1024 * 1024 // 3 - 2) + b"[]]"
    body = b'{}\\n{"type":"event","length":%d}\\n' % len(payload) + payload
    data, check = bytes([fuzz_ingest.selector("identity", compress=False)]) + body, fuzz_ingest.check_one
else:
    data, check = open(sys.argv[1], "rb").read(), fuzz_otlp.check_one
before = peak_kib()
outcome = check(data)
said = getattr(outcome, "detail", None) or getattr(outcome, "header", {}).get("otlp")
print(json.dumps({"growth_kib": peak_kib() - before, "outcome": said}))
"""


def _peak_growth_kib(what: str) -> tuple[int, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "relay-mock"), str(REPO)])}
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, what], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    result = json.loads(child.stdout)
    return int(result["growth_kib"]), result["outcome"]


def test_the_worst_otlp_body_costs_no_more_memory_than_the_worst_envelope() -> None:
    envelope_kib, _ = _peak_growth_kib("envelope")
    otlp_kib, outcome = _peak_growth_kib(str(CORPUS / "otlp-hostile-huge-array.gzip"))

    assert isinstance(outcome, dict) and outcome["rejected"] == 1, outcome  # reached the converter
    print(f"peak growth: worst OTLP body {otlp_kib / 1024:.0f} MiB, worst envelope {envelope_kib / 1024:.0f} MiB")
    assert otlp_kib <= envelope_kib, f"OTLP peak {otlp_kib} KiB > envelope peak {envelope_kib} KiB"
    assert envelope_kib < 400 * 1024


def test_deep_nesting_is_refused_before_it_costs_memory() -> None:
    for name in ("otlp-hostile-deep-kvlist", "otlp-hostile-deep-json-values", "otlp-hostile-deep-json-brackets"):
        growth_kib, outcome = _peak_growth_kib(str(CORPUS / name))
        assert isinstance(outcome, str) and outcome.startswith("body is not"), (name, outcome)
        assert growth_kib < 16 * 1024, (name, growth_kib)
