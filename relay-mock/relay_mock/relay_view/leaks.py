"""Values that look like secrets and survive into what Sentry would store.

Two signs: the name the value is stored under (a key, a header, a cookie or query pair), and the
value's own shape (bearer and basic credentials, card numbers that pass Luhn's check, well-known
token formats, `password=...` in free text, credentials in a URL). A value Relay or the SDK
already replaced ("[Filtered]", a mask) is no leak; neither is one `_meta` says Relay changed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any, TypedDict


class Leak(TypedDict):
    path: str
    kind: str
    reason: str
    preview: str
    length: int
    fingerprint: str  # sha256 of the value, 16 hex: tests and tools match a known secret with it


SECRET_NAME = re.compile(
    r"pass(word|wd|phrase)?|pwd|secret|token|api[-_]?key|apikey|access[-_]?key|authori[sz]ation|"
    r"^auth$|[-_]auth$|cookie|session|csrf|xsrf|credential|private[-_]?key",
    re.IGNORECASE,
)
_NAME_KIND = (
    (re.compile(r"cookie|session", re.I), "cookie"),
    (re.compile(r"authori[sz]ation|auth", re.I), "credential"),
    (re.compile(r"pass|pwd", re.I), "password"),
    (re.compile(r"api[-_]?key|apikey|access[-_]?key", re.I), "api_key"),
    (re.compile(r"token|csrf|xsrf", re.I), "token"),
)
_VALUE_PATTERNS = (
    ("bearer", re.compile(r"\bbearer\s+[A-Za-z0-9._~+/=-]{8,}", re.I)),
    ("credential", re.compile(r"\bbasic\s+[A-Za-z0-9+/]{12,}={0,2}", re.I)),
    ("private_key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    (
        "api_key",
        re.compile(
            r"\b(?:[sr]k_(?:live|test)_[A-Za-z0-9]{10,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}"
            r"|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35})"
        ),
    ),
    ("token", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
    (
        "password",
        re.compile(
            r"(?i)\b(?:password|passwd|pwd|secret|token|api[-_]?key|apikey|sessionid|session)"
            r"(?:\\?['\"])?\s*[=:]\s*(?:\\?['\"])?(?!\[Filtered\]|%5BFiltered%5D)([^\s'\"\\&;,)}\]]{4,})"
        ),
    ),
    ("credential", re.compile(r"://[^/\s:@]+:(?!\[Filtered\]|%5BFiltered%5D)[^/\s@]{3,}@")),
)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
# What scrubbers leave behind.
_REPLACED = re.compile(r"^(?:\[Filtered\]|\[redacted\]|\[ip\]|\[email\]|\[creditcard\]|\*+|x+|)$", re.IGNORECASE)
# The event's own bookkeeping, never user data.
_SKIPPED_TOP = frozenset({"_meta", "errors", "sdk", "debug_meta", "event_id", "project", "received", "key_id"})
_PREVIEW = 3


def find_leaks(stored: dict[str, Any]) -> list[Leak]:
    meta = stored.get("_meta") if isinstance(stored.get("_meta"), dict) else {}
    leaks: list[Leak] = []
    seen: set[tuple[str, str]] = set()
    for key, value in stored.items():
        if key in _SKIPPED_TOP:
            continue
        for path, name, text in _strings(value, [key], [key], key, _sub(meta, key)):
            for kind, reason in _judge(name, text):
                if (path, kind) in seen:
                    continue
                seen.add((path, kind))
                leaks.append(
                    {
                        "path": path,
                        "kind": kind,
                        "reason": reason,
                        "preview": text[:_PREVIEW] + "…" if len(text) > _PREVIEW else "…",
                        "length": len(text),
                        "fingerprint": fingerprint(text),
                    }
                )
    return leaks


def fingerprint(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def _sub(meta: Any, key: str) -> Any:
    return meta.get(key) if isinstance(meta, dict) else None


def _changed(meta: Any) -> bool:
    node = meta.get("") if isinstance(meta, dict) else None
    return isinstance(node, dict) and bool(node.get("rem"))


def _strings(value: Any, path: list[str], shown: list[str], name: str, meta: Any) -> Iterator[tuple[str, str, str]]:
    """(display path, the name it is stored under, the text) for every string Relay left as it was."""
    if _changed(meta):
        return
    if isinstance(value, str):
        yield ".".join(shown), name, value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _strings(child, [*path, str(key)], [*shown, str(key)], str(key), _sub(meta, str(key)))
    elif isinstance(value, list):
        pairs = all(isinstance(i, list) and len(i) == 2 and isinstance(i[0], str) for i in value) and bool(value)
        for index, child in enumerate(value):
            child_meta = _sub(meta, str(index))
            if pairs:
                # Headers, cookies and query strings as Relay stores them: [name, value] pairs.
                pair_name = child[0]
                yield from _strings(
                    child[1], [*path, str(index), "1"], [*shown, pair_name], pair_name, _sub(child_meta, "1")
                )
            else:
                yield from _strings(child, [*path, str(index)], [*shown, str(index)], name, child_meta)


def _judge(name: str, text: str) -> Iterator[tuple[str, str]]:
    stripped = text.strip().strip("'\"")
    if _REPLACED.match(stripped) or "[Filtered]" == stripped:
        return
    if SECRET_NAME.search(name) and len(stripped) >= 4:
        kind = next((k for pattern, k in _NAME_KIND if pattern.search(name)), "secret")
        yield kind, f"stored under {name!r}"
        return
    for kind, pattern in _VALUE_PATTERNS:
        if pattern.search(text):
            yield kind, "looks like a " + kind.replace("_", " ")
            return
    for match in _CARD.finditer(text):
        if _luhn(re.sub(r"\D", "", match.group())):
            yield "card", "a card number (passes the Luhn check)"
            return


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
