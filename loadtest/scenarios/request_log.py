"""Optional per-request log for chaos runs: one CSV line per request (time, name, status,
latency), so phases of a run can be measured exactly rather than from Locust's rolling
windows. Enabled by LOCUST_REQUEST_LOG=<path>."""

from __future__ import annotations

import atexit
import os
import time
from typing import Any

from locust import events

PATH = os.environ.get("LOCUST_REQUEST_LOG")

if PATH:
    # Line-buffered: the chaos runner watches the file to know when traffic started.
    _file = open(PATH, "a", buffering=1)
    atexit.register(_file.close)

    @events.request.add_listener
    def _log_request(
        request_type: str, name: str, response_time: float, response: Any = None, exception: Any = None, **_: Any
    ) -> None:
        status = getattr(response, "status_code", 0) or 0
        _file.write(
            f"{time.time():.3f},{request_type} {name},{status},{response_time:.1f},{int(exception is not None)}\n"
        )

    @events.quitting.add_listener
    def _flush(**_: Any) -> None:
        _file.flush()
