"""Per-project data-scrubbing settings (`RELAY_SCRUBBING`), checked with Relay's own validator.

The value is JSON, or the path of a JSON file: an object keyed by project name or id whose values
are Sentry's project settings, with Sentry's own field names:

    {"api": {"sensitiveFields": ["order_note"], "scrubIpAddresses": true},
     "3": {"piiConfig": {"rules": {...}, "applications": {...}}}}

A project not named gets Sentry's defaults for a new project. As in Relay, a project's advanced
rules (`piiConfig`) run first, then the rules its data-scrubbing settings convert to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import orjson

from relay_mock.relay_view.relay_code import RelayError, convert_datascrubbing_config, validate_pii_config
from relay_mock.settings import Project

VARIABLE = "RELAY_SCRUBBING"

# Sentry's settings for a new project: Data Scrubber and Use Default Scrubbers on, IP addresses kept.
DEFAULT_DATASCRUBBING: dict[str, Any] = {
    "scrubData": True,
    "scrubDefaults": True,
    "scrubIpAddresses": False,
    "sensitiveFields": [],
    "excludeFields": [],
}
_DATASCRUBBING_FIELDS = frozenset(DEFAULT_DATASCRUBBING)


@dataclass(frozen=True)
class ProjectScrubbing:
    """What one project's settings say, and the PII configs Relay runs for it, in order."""

    settings: dict[str, Any]
    pii_configs: tuple[dict[str, Any], ...]


def load_scrubbing(raw: str | None, projects: dict[int, Project]) -> dict[int, ProjectScrubbing]:
    """Every configured project's scrubbing; raises SystemExit naming the variable and the bad rule."""
    configured = _parse(raw)
    by_key = {str(p.id): p for p in projects.values()} | {p.name: p for p in projects.values()}
    chosen: dict[int, dict[str, Any]] = {}
    for key, value in configured.items():
        project = by_key.get(key)
        if project is None:
            _fail(f"names no configured project: {key!r} (projects: {', '.join(sorted(by_key))})")
        if not isinstance(value, dict):
            _fail(f"project {key!r}: expected an object of settings, got {type(value).__name__}")
        unknown = set(value) - _DATASCRUBBING_FIELDS - {"piiConfig"}
        if unknown:
            _fail(f"project {key!r}: unknown setting(s) {', '.join(sorted(unknown))}")
        chosen[project.id] = value
    return {pid: _project(projects[pid].name, chosen.get(pid, {})) for pid in projects}


def default_scrubbing() -> ProjectScrubbing:
    return _project("default", {})


def _project(name: str, value: dict[str, Any]) -> ProjectScrubbing:
    datascrubbing = DEFAULT_DATASCRUBBING | {k: v for k, v in value.items() if k in _DATASCRUBBING_FIELDS}
    configs: list[dict[str, Any]] = []
    custom = value.get("piiConfig")
    if custom is not None:
        configs.append(_validated(name, "piiConfig", custom))
    try:
        converted = convert_datascrubbing_config(datascrubbing)
    except (RelayError, ValueError, TypeError) as exc:
        _fail(f"project {name!r}: data-scrubbing settings rejected by Relay: {_first_line(exc)}")
    if converted:
        configs.append(_validated(name, "data-scrubbing settings", converted))
    return ProjectScrubbing(
        settings={**datascrubbing, **({"piiConfig": custom} if custom else {})}, pii_configs=tuple(configs)
    )


def _validated(name: str, what: str, config: Any) -> dict[str, Any]:
    if not isinstance(config, dict):
        _fail(f"project {name!r}: {what} must be an object")
    try:
        validate_pii_config(orjson.dumps(config).decode())
    except (RelayError, ValueError) as exc:
        _fail(f"project {name!r}: {what}: {_rule_hint(config, exc)}{_first_line(exc)}")
    return config


def _rule_hint(config: dict[str, Any], exc: Exception) -> str:
    """Relay's message names the problem, not the rule: name the rule whose pattern is the culprit."""
    rules = config.get("rules")
    if not isinstance(rules, dict):
        return ""
    for rule_id, rule in rules.items():
        try:
            validate_pii_config(
                orjson.dumps({"rules": {rule_id: rule}, "applications": {"$string": [rule_id]}}).decode()
            )
        except (RelayError, ValueError):
            return f"rule {rule_id!r}: "
    return ""


def _parse(raw: str | None) -> dict[str, Any]:
    if raw is None or not raw.strip():
        return {}
    text = raw.strip()
    if not text.startswith("{"):
        path = Path(text)
        try:
            text = path.read_text()
        except OSError as exc:
            _fail(f"neither JSON nor a readable file: {exc}")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        _fail(f"not valid JSON: {exc}")
    if not isinstance(value, dict):
        _fail("expected a JSON object keyed by project name or id")
    return value


def _first_line(exc: BaseException) -> str:
    # sentry_relay appends a native backtrace to some messages; a regex error spans lines.
    return " ".join(str(exc).split("stacktrace:", 1)[0].split())


def _fail(message: str) -> NoReturn:
    raise SystemExit(f"invalid configuration: {VARIABLE}: {message}")
