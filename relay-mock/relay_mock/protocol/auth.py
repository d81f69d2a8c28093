"""Sentry's ingest authentication, in every form Relay accepts.

Exactly one of: `X-Sentry-Auth: Sentry sentry_key=...`, `Authorization: Sentry ...`,
`Authorization: Basic base64(key:)`, or the `sentry_key` query parameter. With none
of them, the envelope header's `dsn` is the fallback (checked after parsing).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from relay_mock.protocol.ingest_errors import AuthError


@dataclass(frozen=True)
class Auth:
    public_key: str
    form: str  # x-sentry-auth | authorization | basic | query | envelope-dsn
    client: str | None = None
    version: str | None = None


def auth_from_request(headers: dict[str, str], query_string: str) -> Auth | None:
    """The request's credentials, None when it carries none, AuthError when they are malformed."""
    found: list[Auth] = []
    x_auth = headers.get("x-sentry-auth")
    if x_auth is not None:
        found.append(_parse_sentry_header(x_auth, "x-sentry-auth"))
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, rest = authorization.strip().partition(" ")
        if scheme.lower() == "sentry":
            found.append(_parse_sentry_header(authorization, "authorization"))
        elif scheme.lower() == "basic":
            found.append(_parse_basic(rest))
        else:
            raise AuthError("unsupported Authorization scheme", f"expected 'Sentry' or 'Basic', got {scheme[:20]!r}")
    if query_string:
        params = parse_qs(query_string)
        keys = params.get("sentry_key")
        if keys:
            found.append(
                Auth(
                    keys[0].strip(),
                    "query",
                    client=_first(params, "sentry_client"),
                    version=_first(params, "sentry_version"),
                )
            )
    if len(found) > 1:
        raise AuthError(
            "multiple authorization payloads",
            "send credentials in exactly one place; found: " + ", ".join(a.form for a in found),
        )
    if not found:
        return None
    auth = found[0]
    if not auth.public_key:
        raise AuthError("empty sentry_key", f"in the {auth.form} credentials")
    return auth


def auth_from_dsn(dsn: str) -> Auth:
    try:
        parts = urlsplit(dsn)
    except ValueError as exc:  # e.g. "Invalid IPv6 URL" for an unclosed "["
        raise AuthError("envelope header dsn is not a URL", f"{exc}: got {dsn[:100]!r}") from None
    if not parts.username:
        raise AuthError("envelope header dsn has no public key", f"got {dsn[:100]!r}")
    return Auth(parts.username, "envelope-dsn")


def _parse_sentry_header(value: str, form: str) -> Auth:
    text = value.strip()
    if text[:7].lower() == "sentry ":
        text = text[7:]
    pairs: dict[str, str] = {}
    for part in text.split(","):
        key, sep, val = part.strip().partition("=")
        if sep:
            pairs[key.strip().lower()] = val.strip()
    public_key = pairs.get("sentry_key")
    if public_key is None:
        raise AuthError(f"{form} has no sentry_key", f"got {value[:120]!r}")
    return Auth(public_key, form, client=pairs.get("sentry_client"), version=pairs.get("sentry_version"))


def _first(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def _parse_basic(token: str) -> Auth:
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode()
    except ValueError:  # binascii.Error, UnicodeDecodeError, and a non-ASCII token
        raise AuthError("Authorization: Basic is not valid base64", "expected base64 of 'public_key:'") from None
    return Auth(decoded.partition(":")[0].strip(), "basic")
