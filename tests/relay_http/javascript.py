"""Sentry's JavaScript SDKs for the client tests, installed with npm into a cache outside the
repository (keyed by the pinned versions, so an upgrade installs afresh) on first use.

@sentry/browser ships no prebuilt bundle on npm (its build/ holds only the cjs and esm builds)
and npm has no package of the CDN bundles, so the browser bundle is made here from the npm
package with esbuild, the way an application's bundler would: one IIFE defining `Sentry`.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.chromium import missing_chromium
from tests.support.relay_server import REPO

PACKAGES = {"@sentry/node": "11.12.0", "@sentry/browser": "11.12.0", "esbuild": "0.28.2"}
NODE_SCRIPT = Path(__file__).with_name("node_client.cjs")
INSTALL_TIMEOUT_S = 300


@dataclass(frozen=True)
class JavaScriptSdks:
    root: Path

    @property
    def node_modules(self) -> Path:
        return self.root / "node_modules"

    @property
    def browser_bundle(self) -> Path:
        return self.root / "sentry-browser.bundle.min.js"


def cache_root() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(json.dumps(PACKAGES, sort_keys=True).encode()).hexdigest()[:12]
    return base / "sentry-sandbox" / f"js-sdks-{key}"


def install() -> JavaScriptSdks:
    """The SDKs, installed once per machine (a lock keeps parallel sessions from racing)."""
    sdks = JavaScriptSdks(cache_root())
    sdks.root.mkdir(parents=True, exist_ok=True)
    done = sdks.root / ".installed"
    with (sdks.root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            (sdks.root / "package.json").write_text(
                json.dumps({"private": True, "dependencies": PACKAGES}, indent=2) + "\n"
            )
            # --ignore-scripts: nothing may download binaries from outside the registry.
            _run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], sdks.root)
            entry = sdks.root / "browser-entry.mjs"
            entry.write_text("export * from '@sentry/browser';\n")
            bundle = [str(sdks.node_modules / ".bin" / "esbuild"), entry.name, "--bundle", "--minify"]
            bundle += ["--format=iife", "--global-name=Sentry", "--platform=browser", "--target=es2020"]
            _run([*bundle, f"--outfile={sdks.browser_bundle.name}"], sdks.root)
            done.write_text(json.dumps(PACKAGES) + "\n")
    return sdks


def _run(command: list[str], cwd: Path) -> None:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"installing Sentry's JavaScript SDKs into {cwd} failed: {' '.join(command)}: {exc}", pytrace=False)
    if done.returncode != 0:
        pytest.fail(
            f"installing Sentry's JavaScript SDKs into {cwd} failed ({done.returncode}): {' '.join(command)}\n"
            f"{done.stderr[-3000:]}",
            pytrace=False,
        )


def run_node(
    sdks: JavaScriptSdks, dsn: str, release: str, lifecycle: str = "stream", *, spotlight: str = ""
) -> dict[str, Any]:
    """Run node_client.cjs with @sentry/node; returns what it reports having sent."""
    env = {**os.environ, "NODE_PATH": str(sdks.node_modules)}
    command = ["node", str(NODE_SCRIPT), dsn, release, lifecycle, *([spotlight] if spotlight else [])]
    return _report(command, subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False))


def run_browser(
    sdks: JavaScriptSdks, dsn: str, message: str, *, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Capture a message with @sentry/browser in headless Chromium (browser_client.py)."""
    missing = missing_chromium()
    if missing:
        pytest.fail(missing, pytrace=False)
    command = [sys.executable, "-m", "tests.relay_http.browser_client", str(sdks.browser_bundle), dsn, message]
    command += [f"--header={name}:{value}" for name, value in (headers or {}).items()]
    return _report(command, subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=90, check=False))


def _report(command: list[str], done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    if done.returncode != 0 or not done.stdout.strip():
        raise AssertionError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))
