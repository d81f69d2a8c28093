"""Spotlight's sidecar as a peer in `make bench-relay`: installed from the npm registry into a
cache folder on first use, started like the other servers, on the same core.

Pinned: `@spotlightjs/spotlight` 4.11.8 with `hono` 4.12.25, the version its own bundle was
built with (with newer hono releases every route of the sidecar answers 500).
The sidecar reports its own traces to sentry.io (its telemetry is on, sampling every request);
the copy used here has that switched off, since this machine reaches no such address and the
benchmark sends nothing off the machine. That only makes the peer faster, so the ratio
relay-mock/Spotlight is, if anything, understated.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

SPOTLIGHT = "4.11.8"
HONO = "4.12.25"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "sentry-sandbox" / f"spotlight-{SPOTLIGHT}"
PACKAGES = (f"@spotlightjs/spotlight@{SPOTLIGHT}", f"hono@{HONO}")
RUN_JS = CACHE / "node_modules" / "@spotlightjs" / "spotlight" / "dist" / "run.js"
TELEMETRY_CONFIG = RUN_JS.parent / "sentry-config.js"


def install() -> Path | None:
    """Install the sidecar once; returns its entry point, or None (with the reason printed)."""
    if RUN_JS.exists():
        return RUN_JS
    if shutil.which("npm") is None or shutil.which("node") is None:
        print("Spotlight skipped: node and npm are needed (apt-get install nodejs npm)", file=sys.stderr)
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    # overrides: Spotlight's own dependency range would otherwise pull a newer, broken hono.
    (CACHE / "package.json").write_text(json.dumps({"private": True, "overrides": {"hono": HONO}}))
    print(f"installing @spotlightjs/spotlight@{SPOTLIGHT} into {CACHE} ...", file=sys.stderr)
    result = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", *PACKAGES],
        cwd=CACHE,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not RUN_JS.exists():
        print(f"Spotlight skipped: npm install failed:\n{result.stderr[-2000:]}", file=sys.stderr)
        return None
    config = TELEMETRY_CONFIG.read_text().replace('enabled: Boolean("production") && true', "enabled: false")
    if "enabled: false" not in config:
        print("Spotlight skipped: could not switch its telemetry off in this version", file=sys.stderr)
        RUN_JS.unlink()
        return None
    TELEMETRY_CONFIG.write_text(config)
    return RUN_JS


def command(port: int) -> list[str]:
    return ["node", str(RUN_JS), "server", "--port", str(port)]
