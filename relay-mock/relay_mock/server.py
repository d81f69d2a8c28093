"""How relay-mock's HTTP server runs: one uvicorn worker with deliberate limits.

Shared with the benchmark's no-op ceiling, so both are measured on the same stack.
"""

from __future__ import annotations

from typing import Any

UVICORN_OPTIONS: dict[str, Any] = {
    "log_config": None,
    "access_log": False,
    "server_header": False,
    "loop": "uvloop",
    "http": "httptools",
    # Deliberate limits (docs/resilience.md): bounded connections and header sizes,
    # idle keep-alives dropped, so floods and slow clients cannot exhaust the process.
    "limit_concurrency": 2000,
    "backlog": 4096,
    "timeout_keep_alive": 30,
    "h11_max_incomplete_event_size": 64 * 1024,
    # Live streams never end by themselves: on shutdown give them this long, then close them.
    "timeout_graceful_shutdown": 3,
}
