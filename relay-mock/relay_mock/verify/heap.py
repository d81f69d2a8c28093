"""Pausing Python's cyclic garbage collector around the verifier's allocation-heavy passes."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off, then restore it as it was.

    Verifying (or rendering) 50,000 traces allocates hundreds of thousands of small containers and
    no reference cycles, yet every burst of allocations makes the collector rescan the whole heap,
    the bundles included: that was more than half of verify's time. Refcounting still frees
    everything; only cycle detection waits until the block ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
