"""Values that look like secrets and survive into what Sentry would store.

Two signs: the name the value is stored under (a key, a header, a cookie or query pair), and the
value's own shape (bearer and basic credentials, card numbers that pass Luhn's check, well-known
token formats, `password=...` in free text, credentials in a URL). A value Relay or the SDK
already replaced ("[Filtered]", a mask) is no leak; neither is one `_meta` says Relay changed.
"""

from __future__ import annotations

import functools
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
# One pass over each string for every shape (one regex, not one per shape: this runs over every
# string of every event). The group that matched names the kind.
_VALUE = re.compile(
    r"(?P<bearer>\b(?i:bearer)\s+[A-Za-z0-9._~+/=-]{8,})"
    r"|(?P<basic>\b(?i:basic)\s+[A-Za-z0-9+/]{12,}={0,2})"
    r"|(?P<private_key>-----BEGIN [A-Z ]*PRIVATE KEY-----)"
    r"|(?P<api_key>\b(?:[sr]k_(?:live|test)_[A-Za-z0-9]{10,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}))"
    r"|(?P<token>\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,})"
    r"|(?P<password>\b(?i:password|passwd|pwd|secret|token|api[-_]?key|apikey|sessionid)"
    r"(?:\\?['\"])?\s*[=:]\s*(?:\\?['\"])?(?!\[Filtered\]|%5BFiltered%5D)(?P<value>[^\s'\"\\&;,)}\]]{4,}))"
    r"|(?P<urlauth>://[^/\s:@]+:(?!\[Filtered\]|%5BFiltered%5D)[^/\s@]{3,}@)"
)
_KIND = {"basic": "credential", "urlauth": "credential"}
# Substrings one of the shapes needs (lowercase): most strings hold none and skip the regex.
_HINTS = (
    "bearer",
    "basic",
    "pass",
    "pwd",
    "secret",
    "token",
    "api",
    "session",
    "-----begin",
    "sk_",
    "rk_",
    "gh",
    "github_pat_",
    "xox",
    "akia",
    "aiza",
    "eyj",
    "://",
)
_SHORTEST = 8
_NO_DIGITS = str.maketrans("", "", "0123456789")
# Card numbers start with a card network's prefix (Visa 4, Mastercard 2 and 5, Amex 3, Discover 6);
# numeric ids stored as text (thread ids, counters) pass Luhn's check one time in ten.
_LOOKS_LIKE = {
    "bearer": "looks like a bearer credential",
    "credential": "looks like a credential",
    "private_key": "looks like a private key",
    "api_key": "looks like an API key",
    "token": "looks like a token (JWT)",
    "password": "looks like a password in text",
}
_CARD = re.compile(r"(?<![\d-])[2-6]\d(?:[ -]?\d){11,17}(?![\d-])")
_ID_NAME = re.compile(r"(^|[._-])id$|ids?$", re.IGNORECASE)
# What scrubbers leave behind, and values that cannot be secrets: Python literals and object reprs
# as the SDK writes frame variables.
_REPLACED = re.compile(
    r"^(?:\[Filtered\]|\[redacted\]|\[ip\]|\[email\]|\[creditcard\]|\*+|x+|true|false|none|null|<.*>|)$",
    re.IGNORECASE | re.DOTALL,
)
# Source lines around a frame: code, where `token = ...` is a statement, not a value. Only the
# token formats count there (a key pasted into code is a leak).
_SOURCE_NAMES = frozenset({"context_line", "pre_context", "post_context"})
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
        for shown, name, text in _strings(key, value, _sub(meta, key)):
            for kind, reason, secret in _judge(name, text):
                path = ".".join(shown)
                if (path, kind) in seen:
                    continue
                seen.add((path, kind))
                leaks.append(
                    {
                        "path": path,
                        "kind": kind,
                        "reason": reason,
                        "preview": secret[:_PREVIEW] + "…" if len(secret) > _PREVIEW else "…",
                        "length": len(secret),
                        "fingerprint": fingerprint(secret),
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


def _strings(key: str, value: Any, meta: Any) -> Iterator[tuple[tuple[str, ...], str, str]]:
    """(display path, the name it is stored under, the text) for every string Relay left as it
    was, in document order. A loop, not recursion: an event holds thousands of values."""
    stack: list[tuple[tuple[str, ...], str, Any, Any]] = [((key,), key, value, meta)]
    while stack:
        shown, name, value, meta = stack.pop()
        if meta is not None and _changed(meta):
            continue
        if isinstance(value, str):
            yield shown, name, value
        elif isinstance(value, dict):
            children = [((*shown, str(k)), str(k), child, _sub(meta, str(k))) for k, child in value.items()]
            stack.extend(reversed(children))
        elif isinstance(value, list) and value:
            if all(isinstance(i, list) and len(i) == 2 and isinstance(i[0], str) for i in value):
                # Headers, cookies and query strings as Relay stores them: [name, value] pairs.
                children = [
                    ((*shown, pair[0]), pair[0], pair[1], _sub(_sub(meta, str(i)), "1")) for i, pair in enumerate(value)
                ]
            else:
                children = [((*shown, str(i)), name, child, _sub(meta, str(i))) for i, child in enumerate(value)]
            stack.extend(reversed(children))


def _judge(name: str, text: str) -> Iterator[tuple[str, str, str]]:
    """(kind, reason, the secret itself): the whole value for a name, the matching part for a shape."""
    stripped = text.strip().strip("'\"")
    if _REPLACED.match(stripped):
        return
    if _secret_name(name) and len(stripped) >= 4:
        kind = next((k for pattern, k in _NAME_KIND if pattern.search(name)), "secret")
        yield kind, f"stored under {name!r}", stripped
        return
    if len(text) < _SHORTEST:
        return
    lowered = text.lower()
    for match in _VALUE.finditer(text) if any(hint in lowered for hint in _HINTS) else ():
        shape = match.lastgroup or ""
        if shape == "password" and name in _SOURCE_NAMES:
            continue
        kind = _KIND.get(shape, shape)
        yield kind, _LOOKS_LIKE[kind], match.group("value") if shape == "password" else match.group()
        return
    digits = len(text) - len(text.translate(_NO_DIGITS))
    for match in _CARD.finditer(text) if digits >= 13 and not _ID_NAME.search(name) else ():
        if _luhn(re.sub(r"\D", "", match.group())):
            yield "card", "a card number (passes the Luhn check)", match.group()
            return


@functools.lru_cache(maxsize=4096)
def _secret_name(name: str) -> bool:
    return SECRET_NAME.search(name) is not None


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
