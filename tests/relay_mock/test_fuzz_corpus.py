"""Replay the fuzzer's corpus (fuzz/corpus/) through the fuzz harness's own oracle, without atheris.

Every seed and every kept crasher runs through `check_one`, the function the atheris entry
point calls, so a fixed crash stays fixed in CI and a seed that stops parsing is noticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz import fuzz_otlp
from fuzz.fuzz_ingest import check_one
from relay_mock.protocol.ingest_errors import IngestError
from relay_mock.store.records import EnvelopeRecord

CORPUS = Path(__file__).resolve().parents[2] / "fuzz" / "corpus"
SEEDS = sorted(path for path in CORPUS.iterdir() if path.is_file())


def test_the_corpus_is_small_enough_to_replay_in_ci() -> None:
    assert 0 < len(SEEDS) < 200
    assert sum(path.stat().st_size for path in SEEDS) < 2 * 1024 * 1024


OTLP_SEEDS = [path for path in SEEDS if path.name.startswith("otlp-")]


# scripts/fuzz.sh hands the whole corpus to either target, so each oracle replays every seed:
# an OTLP seed read as an envelope once found a header the store writer could not write.
@pytest.mark.parametrize("seed", SEEDS, ids=[path.name for path in SEEDS])
def test_a_corpus_input_gets_a_record_or_a_4xx(seed: Path) -> None:
    check_one(seed.read_bytes())


@pytest.mark.parametrize("seed", SEEDS, ids=[path.name for path in SEEDS])
def test_an_otlp_corpus_input_gets_a_record_or_a_4xx(seed: Path) -> None:
    # fuzz/fuzz_otlp.py's oracle: also, every record is stored or counted as rejected.
    fuzz_otlp.check_one(seed.read_bytes())


def test_the_otel_sdk_s_requests_are_taken_whole() -> None:
    for seed in [p for p in OTLP_SEEDS if p.name.startswith("otlp-sdk-")]:
        outcome = fuzz_otlp.check_one(seed.read_bytes())
        assert isinstance(outcome, EnvelopeRecord), (seed.name, outcome)
        assert outcome.header["otlp"]["rejected"] == 0, (seed.name, outcome.header)
        assert outcome.header["otlp"]["accepted"] >= 2, (seed.name, outcome.header)


HOSTILE = {
    "otlp-hostile-truncated-protobuf": (400, "body is not a protobuf ExportTraceServiceRequest"),
    "otlp-hostile-deep-kvlist": (400, "body is not a protobuf ExportTraceServiceRequest"),
    "otlp-hostile-deep-json-brackets": (400, "body is not valid JSON"),
    "otlp-hostile-invalid-utf8-protobuf": (400, "body is not a protobuf ExportTraceServiceRequest"),
    "otlp-hostile-invalid-utf8-json": (400, "body is not valid JSON"),
    "otlp-hostile-json-id-not-hex": (400, "spanId is not hex"),
    "otlp-content-type-text": (415, "unsupported content type 'text/plain'"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_otlp_body_is_refused_naming_why(name: str) -> None:
    outcome = fuzz_otlp.check_one((CORPUS / name).read_bytes())
    assert isinstance(outcome, IngestError), outcome
    assert (outcome.status, outcome.detail) == HOSTILE[name]


def test_spans_of_the_wrong_shape_are_rejected_one_by_one() -> None:
    outcome = fuzz_otlp.check_one((CORPUS / "otlp-hostile-wrong-id-lengths").read_bytes())
    assert isinstance(outcome, EnvelopeRecord), outcome
    otlp = outcome.header["otlp"]
    assert (otlp["accepted"], otlp["rejected"]) == (0, 7), otlp
    for reason in ("span_id has 3 bytes, expected 8", "trace_id has 17 bytes, expected 16",
                   "parent_span_id has 5 bytes", "trace_id has 0 bytes", "trace_id is all zeros",
                   "end_time_unix_nano is before start_time_unix_nano", "links[].trace_id has 9 bytes"):  # fmt: skip
        assert reason in otlp["error_message"], (reason, otlp["error_message"])


def test_a_huge_attribute_array_rejects_its_span_not_the_process() -> None:
    outcome = fuzz_otlp.check_one((CORPUS / "otlp-hostile-huge-array.gzip").read_bytes())
    assert isinstance(outcome, EnvelopeRecord), outcome
    assert outcome.header["otlp"]["rejected"] == 1
    assert "more than 1048576 bytes" in outcome.header["otlp"]["error_message"]


@pytest.mark.parametrize("seed", [p for p in SEEDS if p.name.startswith(("sdk-", "wire-"))], ids=lambda p: p.name)
def test_every_sdk_envelope_is_accepted(seed: Path) -> None:
    # sentry-python's own envelopes, in every encoding: a refusal here is a relay-mock bug.
    outcome = check_one(seed.read_bytes())
    assert isinstance(outcome, EnvelopeRecord), outcome
    assert outcome.items
