"""Keeping Python's cyclic garbage collector out of the verifier's allocation-heavy passes."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off, and keep what it built out of later scans.

    Verifying (or rendering) 50,000 traces allocates millions of small containers and no
    reference cycles, yet every burst of allocations makes the collector rescan the heap, the
    bundles included. Pausing alone only postpones that: everything the block allocated is
    still the youngest generation, and the first collection afterwards scans all of it (1.8 s
    for 100,000 envelopes). So the block's survivors are frozen, which costs nothing (the
    collector splices its lists), and the next pause unfreezes them. Refcounting still frees
    everything the moment a request lets go of it; only cycles left when a block ends wait
    until the next block starts to be collectable again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    gc.unfreeze()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
