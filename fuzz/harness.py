"""What both fuzz targets share: atheris when it is installed, coverage from relay_mock's code
only, and the half of the contract every ingest path owes (a refusal is a 4xx whose body builds;
an accepted record's items lie inside it). Each target adds its own oracle on top."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import Any

try:
    import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]
except ImportError:  # CI replays the corpus without atheris
    atheris = None


class ContractViolation(AssertionError):
    """The ingest answered in a way the contract forbids (a 5xx, or a record the writer cannot store)."""


def instrumented(module_name: str) -> contextlib.AbstractContextManager[object]:
    """Wrap a target's relay_mock imports: instrumented only when the target runs as the fuzzer."""
    if atheris is not None and module_name == "__main__":
        return atheris.instrument_imports(include=["relay_mock"])  # type: ignore[no-any-return]
    return contextlib.nullcontext()


def check_refusal(exc: Any) -> None:
    """An IngestError is part of the contract only with a 4xx status and a body that builds."""
    if not 400 <= exc.status < 500:
        raise ContractViolation(f"{type(exc).__name__} with status {exc.status}: {exc.detail}") from exc
    exc.body()


def check_items_inside(record: Any, what: str = "envelope") -> None:
    for item in record.items:
        if item.offset + item.length > len(record.raw):
            raise ContractViolation(f"item {item.idx} points past the {what} ({item.offset}+{item.length})")


def fuzz(check_one: Callable[[bytes], object]) -> None:
    """Run `check_one` under atheris (libFuzzer's flags from the command line)."""
    if atheris is None:
        sys.exit("atheris is not installed: .venv/bin/pip install atheris")
    atheris.Setup(sys.argv, check_one)
    atheris.Fuzz()
