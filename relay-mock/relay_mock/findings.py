"""What the verifier finds, as the API sends it: one `Finding` per fault and one `TraceVerdict` per
trace (verify/report.py says what the verdicts mean and counts them in a `Report`).

Plain frozen dataclasses, fast to make on the verifier's hot path, and the wire shape too:
`models.VerifyReport` holds them as they are and pydantic dumps them (the JSON of
`/inspect/verify` and `verify --json`); `from_dict` reads that JSON back. They sit below the
verifier, beside the models, so the models need nothing of the verifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    check: str  # completeness, linkage, identity, dsc, sampling, errors, db_spans, timing
    kind: str  # e.g. missing_transaction, wrong_parent
    trace_id: str
    message: str
    expected: str
    observed: str
    envelope_ids: tuple[str, ...]
    scenario: str | None
    # "sdk:<reason>" or "relay:<reason>" when a reported drop explains the fault; such a finding is
    # a lost item, not a failure.
    attributed_to: str | None
    ui_url: str
    # The service the finding is about, when it is about one (the missing one, for losses).
    service: str | None = None
    # A note reports what was seen and owed nothing (a call that never reached its service).
    note: bool = False
    # The span the finding is about, when it is about one: the call span that owes a child, the
    # transaction (its root span) that hangs on the wrong parent. The trace page marks it.
    span_id: str | None = None
    # The other trace of a split (propagation_format): where the callee's spans went, or, in
    # the trace the callee started, the caller's trace. The trace page links to it.
    other_trace_id: str | None = None

    @property
    def is_failure(self) -> bool:
        return not self.note and self.attributed_to is None

    @property
    def is_unverified(self) -> bool:
        return not self.note and self.attributed_to is not None

    def sort_key(self) -> tuple[str, str, str, str, tuple[str, ...]]:
        return (self.trace_id, self.check, self.kind, self.message, self.envelope_ids)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**{**data, "envelope_ids": tuple(data["envelope_ids"])})


@dataclass(frozen=True)
class TraceVerdict:
    trace_id: str
    verdict: str  # verified | unverified | failed
    scenario: str | None
    causes: tuple[str, ...] = ()  # for unverified traces: the counted causes that may explain them

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TraceVerdict:
        return cls(data["trace_id"], data["verdict"], data.get("scenario"), tuple(data.get("causes") or ()))
