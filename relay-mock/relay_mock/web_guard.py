"""Keeps web pages away from what relay-mock captured: plain ASGI in front of the inspection
API, the UI and MCP (never in front of ingest, which SDKs reach from anywhere, DSN keys in hand).

Three attacks, three rules:
- DNS rebinding: a page whose own domain re-resolves to 127.0.0.1 becomes same-origin with
  relay-mock and can read everything. Its requests still carry its domain in `Host`, so only
  relay-mock's own names are answered: loopback names and addresses, the compose service name,
  and `RELAY_ALLOWED_HOSTS`.
- Cross-site requests: any page can send a POST with `content-type: text/plain` (no preflight)
  and change fault rules or expectations. Requests that change something, and every MCP request,
  must come from relay-mock's own origin when they name one, and POSTs must be JSON (a type no
  page can send across origins without a preflight, which relay-mock never grants).
- A port published beyond loopback: `RELAY_INSPECT_TOKEN` makes the UI, API and MCP ask for a
  token, as `Authorization: Bearer <token>` or a cookie set by opening `/?token=<token>` once.

The JSON rule guards handlers, so it applies only to requests a route of the app would handle
(`handles`): a method a path lacks gets the router's 405 with `Allow`, not a 415.

Probes (`/health`, `/api/relay/healthcheck/...`) need no token: they say only that relay-mock
is up and how much it holds.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

# Loopback names and the compose service name (other containers: locust, the services' MCP check).
DEFAULT_HOSTS = frozenset({"localhost", "relay-mock"})
TOKEN_COOKIE = "relay_inspect_token"  # noqa: S105 - the name of the cookie, not a secret
PROBE_PATHS = ("/health", "/api/relay/healthcheck/")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

ASGIApp = Any
Scope = dict[str, Any]


def split_host(host: str) -> tuple[str, int | None]:
    """`Host` or an origin's netloc as (lowercase name without brackets, port or None)."""
    host = host.strip().lower()
    if host.startswith("["):  # an IPv6 literal: [::1]:9000
        name, _, rest = host[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    return name, int(port) if port.isdigit() else None


def is_loopback(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return name == "localhost" or name.endswith(".localhost")


class WebGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: Iterable[str] = (),
        token: str | None = None,
        handles: Callable[[Scope], bool] = lambda scope: True,
    ) -> None:
        self.app = app
        self.handles = handles
        extra = {h.strip().lower().strip("[]") for h in allowed_hosts if h.strip()}
        self.any_host = "*" in extra
        self.allowed_hosts = DEFAULT_HOSTS | extra
        self.token = token or None

    def host_allowed(self, name: str) -> bool:
        return self.any_host or name in self.allowed_hosts or is_loopback(name)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path, method = scope["path"], scope["method"]
        refusal = self._refusal(path, method, headers, scope)
        if refusal is not None:
            status, detail, causes = refusal
            await _send_json(send, status, {"detail": detail, "causes": causes})
            return
        if self.token and path == "/" and method == "GET" and _query_token(scope) is not None:
            # Opened with ?token=...: keep it in a cookie no other site can send, and drop it
            # from the address bar (and the browser's history).
            cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", b"/"), (b"set-cookie", cookie.encode()),
                                    (b"content-length", b"0")]})  # fmt: skip
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)

    def _refusal(
        self, path: str, method: str, headers: dict[str, str], scope: dict[str, Any]
    ) -> tuple[int, str, list[str]] | None:
        host = headers.get("host")
        if host is None and not path.startswith(PROBE_PATHS):
            # HTTP/1.0 lets a client leave Host out; no name means none of relay-mock's own.
            return (
                400,
                "a request to the inspection API, the UI or MCP must name its Host",
                ["the Host header is missing: relay-mock answers only its own names (see RELAY_ALLOWED_HOSTS)"],
            )
        if host is not None and not self.host_allowed(split_host(host)[0]):
            return (
                403,
                f"Host {host!r} is not a name of this relay-mock",
                [
                    "the inspection API, the UI and MCP answer only loopback names and addresses, relay-mock "
                    "and RELAY_ALLOWED_HOSTS (a page on another domain resolving to this machine must not read "
                    "what the services sent)",
                    "to reach relay-mock by this name, add it to RELAY_ALLOWED_HOSTS (comma-separated)",
                ],
            )
        changes_state = method not in SAFE_METHODS or path == "/mcp"
        if changes_state:
            origin = headers.get("origin")
            if origin is not None and not _same_origin(origin, host):
                return (
                    403,
                    f"cross-origin {method} refused: Origin {origin!r} is not relay-mock's own",
                    [f"requests that change something must come from relay-mock's own pages (Host {host!r})"],
                )
            if method in BODY_METHODS and self.handles(scope):
                content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
                if content_type != "application/json" and not content_type.endswith("+json"):
                    return (
                        415,
                        f"{method} {path} needs a JSON body (content-type: application/json)",
                        [f"got content-type {content_type or 'none'!r}"],
                    )
        if self.token and not path.startswith(PROBE_PATHS) and not self._has_token(headers, scope, path, method):
            return (
                401,
                "this relay-mock asks for its inspection token (RELAY_INSPECT_TOKEN)",
                [
                    "send Authorization: Bearer <token>, or open /?token=<token> once in the browser",
                ],
            )
        return None

    def _has_token(self, headers: dict[str, str], scope: dict[str, Any], path: str, method: str) -> bool:
        assert self.token is not None
        offered: list[str] = []
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            offered.append(credentials.strip())
        if "cookie" in headers:
            cookies: SimpleCookie = SimpleCookie()
            try:
                cookies.load(headers["cookie"])
            except Exception:  # noqa: BLE001 - a malformed cookie header offers no token
                cookies = SimpleCookie()
            if TOKEN_COOKIE in cookies:
                offered.append(cookies[TOKEN_COOKIE].value)
        if path == "/" and method == "GET":
            offered.append(_query_token(scope) or "")
        return any(hmac.compare_digest(value.encode(), self.token.encode()) for value in offered if value)


def _same_origin(origin: str, host: str | None) -> bool:
    if host is None or origin == "null":
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    default = 443 if parts.scheme == "https" else 80
    origin_name, origin_port = split_host(parts.netloc)
    host_name, host_port = split_host(host)
    return origin_name == host_name and (origin_port or default) == (host_port or default)


def _query_token(scope: dict[str, Any]) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0] if values else None


async def _send_json(send: Any, status: int, body: dict[str, Any]) -> None:
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})
