"""One item through Relay's own code: normalization (`StoreNormalizer`), then data scrubbing
(`pii_strip_event`), and an account of every value either of them changed, read from `_meta`."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from relay_mock.relay_view.leaks import Leak, find_leaks
from relay_mock.relay_view.relay_code import RelayError, normalize_event, pii_strip_event, selector_suggestions
from relay_mock.relay_view.scrubbing import ProjectScrubbing

# The item types sentry_relay parses; logs, v2 spans and metrics it does not.
EVENT_TYPES = ("event", "transaction", "feedback")
MAX_SUGGESTIONS = 200


@dataclass(frozen=True)
class ItemContext:
    """What Relay knows of an item besides its payload: it feeds the normalizer's config."""

    project_id: int
    received_at: float
    client_ip: str | None = None
    user_agent: str | None = None
    sdk_client: str | None = None


@dataclass
class RelayView:
    verdict: str  # ok | repaired | rejected
    normalized: dict[str, Any] | None = None
    stored: dict[str, Any] | None = None
    detail: str | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    duration_ms: float = 0.0

    @property
    def errors(self) -> list[Any]:
        errors = (self.stored or {}).get("errors")
        return errors if isinstance(errors, list) else []

    @property
    def meta(self) -> dict[str, Any]:
        meta = (self.stored or {}).get("_meta")
        return meta if isinstance(meta, dict) else {}

    @property
    def scrubbed(self) -> int:
        return sum(1 for change in self.changes if change["stage"] == "scrubbing")


def compute(payload: bytes, context: ItemContext, scrubbing: ProjectScrubbing) -> RelayView:
    """Relay's verdict on one item. Never raises for a bad payload: Relay refusing it is a verdict."""
    started = time.perf_counter()
    view = _compute(payload, context, scrubbing)
    view.duration_ms = round((time.perf_counter() - started) * 1000, 3)
    return view


def _compute(payload: bytes, context: ItemContext, scrubbing: ProjectScrubbing) -> RelayView:
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return RelayView("rejected", detail=f"not JSON: {exc}")
    if not isinstance(document, dict):
        return RelayView("rejected", detail=f"not a JSON object but {type(document).__name__}")
    try:
        normalized = normalize_event(_normalizer_config(context), payload)
        stored = normalized
        for config in scrubbing.pii_configs:
            stored = pii_strip_event(config, stored)
    except (RelayError, ValueError, TypeError, UnicodeError) as exc:
        return RelayView("rejected", detail=first_line(exc))
    if not isinstance(stored, dict) or not isinstance(normalized, dict):
        return RelayView("rejected", detail="Relay returned no event")
    view = RelayView("ok", normalized=normalized, stored=stored)
    view.changes = changes(stored.get("_meta") or {}, normalized.get("_meta") or {})
    view.leaks = find_leaks(stored)
    if view.errors:
        view.verdict = "repaired"
    return view


def suggestions(view: RelayView) -> list[dict[str, Any]]:
    """Selectors Relay proposes for the values still in the stored event, for a project's own rules."""
    if view.stored is None:
        return []
    event = {k: v for k, v in view.stored.items() if k != "_meta"}
    try:
        found = selector_suggestions(event)
    except (RelayError, ValueError, TypeError):
        return []
    return list(found)[:MAX_SUGGESTIONS] if isinstance(found, list) else []


def _normalizer_config(context: ItemContext) -> dict[str, Any]:
    config: dict[str, Any] = {
        "project_id": context.project_id,
        # The arrival time, not now: the same item always normalizes to the same result.
        "received_at": datetime.fromtimestamp(context.received_at, UTC).isoformat().replace("+00:00", "Z"),
        "enable_trimming": True,
        "normalize_user_agent": True,
    }
    client_ip = _ip(context.client_ip)
    if client_ip:
        config["client_ip"] = client_ip
    if context.user_agent:
        config["user_agent"] = context.user_agent
    if context.sdk_client:
        config["client"] = context.sdk_client
    return config


def _ip(remote_addr: str | None) -> str | None:
    """The address part of the peer as relay-mock recorded it ("host:port" or a bare address)."""
    if not remote_addr:
        return None
    for candidate in (remote_addr, remote_addr.rsplit(":", 1)[0].strip("[]")):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def changes(meta: dict[str, Any], normalization_meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Every value `_meta` says was changed, with the rule ids (remarks) and errors behind it.

    `stage` is normalization when the same remark or error is already in the normalized event's
    `_meta`, scrubbing otherwise.
    """
    before = {entry["path"]: entry for entry in _walk(normalization_meta, [])}
    found = []
    for entry in _walk(meta, []):
        earlier = before.get(entry["path"])
        added = entry["rules"] if earlier is None else [r for r in entry["rules"] if r not in earlier["rules"]]
        entry["stage"] = "scrubbing" if added else "normalization"
        found.append(entry)
    return found


def _walk(meta: Any, path: list[str]) -> list[dict[str, Any]]:
    if not isinstance(meta, dict):
        return []
    found = []
    node = meta.get("")
    if isinstance(node, dict):
        remarks = [r for r in node.get("rem") or [] if isinstance(r, list) and r]
        errors = node.get("err") or []
        found.append(
            {
                "path": ".".join(path),
                "rules": [str(r[0]) for r in remarks],
                "remarks": [
                    {"rule": str(r[0]), "kind": _REMARK_KINDS.get(str(r[1]), str(r[1])) if len(r) > 1 else None}
                    for r in remarks
                ],
                "errors": [_error_text(e) for e in errors],
                "original_length": node.get("len"),
                "original": node.get("val"),
            }
        )
    for key, child in meta.items():
        if key != "":
            found.extend(_walk(child, [*path, key]))
    return found


_REMARK_KINDS = {
    "a": "annotated",
    "x": "removed",
    "s": "substituted",
    "m": "masked",
    "p": "pseudonymized",
    "e": "encrypted",
}


def _error_text(error: Any) -> str:
    if isinstance(error, list) and error:
        kind = str(error[0])
        data = error[1] if len(error) > 1 and isinstance(error[1], dict) else {}
        return f"{kind}: {data['reason']}" if "reason" in data else kind
    return str(error)


def first_line(exc: BaseException) -> str:
    # sentry_relay appends a native backtrace to its messages; the first line is the reason.
    return str(exc).split("\n", 1)[0].strip() or type(exc).__name__
