"""Replay the fuzzer's corpus (fuzz/corpus/) through the fuzz harness's own oracle, without atheris.

Every seed and every kept crasher runs through `check_one`, the function the atheris entry
point calls, so a fixed crash stays fixed in CI and a seed that stops parsing is noticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fuzz.fuzz_ingest import check_one
from relay_mock.store.records import EnvelopeRecord

CORPUS = Path(__file__).resolve().parents[2] / "fuzz" / "corpus"
SEEDS = sorted(path for path in CORPUS.iterdir() if path.is_file())


def test_the_corpus_is_small_enough_to_replay_in_ci() -> None:
    assert 0 < len(SEEDS) < 200
    assert sum(path.stat().st_size for path in SEEDS) < 2 * 1024 * 1024


@pytest.mark.parametrize("seed", SEEDS, ids=[path.name for path in SEEDS])
def test_a_corpus_input_gets_a_record_or_a_4xx(seed: Path) -> None:
    check_one(seed.read_bytes())


@pytest.mark.parametrize("seed", [p for p in SEEDS if p.name.startswith(("sdk-", "wire-"))], ids=lambda p: p.name)
def test_every_sdk_envelope_is_accepted(seed: Path) -> None:
    # sentry-python's own envelopes, in every encoding: a refusal here is a relay-mock bug.
    outcome = check_one(seed.read_bytes())
    assert isinstance(outcome, EnvelopeRecord), outcome
    assert outcome.items
