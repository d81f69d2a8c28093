"""Refusals over real HTTP: each is answered with Relay's status and JSON body, recorded in
/inspect/refusals, counted in /inspect/stats, and leaves relay-mock serving. A compression
bomb is refused without being inflated into memory."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import brotli
import httpx
import pytest
import zstandard

from tests.relay_http.inspector import Inspector
from tests.relay_http.wire import API, DOWNSTREAM, Project, event_envelope, post_envelope, send_event
from tests.support.relay_server import RelayMock

MAX_COMPRESSED = 512 * 1024
MiB = 1024 * 1024


@pytest.fixture(scope="module")
def relay_env() -> dict[str, str]:
    # A small compressed limit, so a body over it stays cheap to send; the decompressed
    # limit keeps Relay's 100 MB, which a bomb must not be allowed to fill memory with.
    return {"RELAY_MAX_COMPRESSED_BYTES": str(MAX_COMPRESSED)}


@pytest.fixture(autouse=True)
def fresh(inspector: Inspector) -> None:
    inspector.clear()


@dataclass(frozen=True)
class Refused:
    """A request relay-mock must refuse, and how."""

    send: Callable[[httpx.Client, str], httpx.Response]
    status: int
    reason: str
    detail: str


def _post(
    body: bytes, *, project: Project = API, path: str | None = None, headers: dict[str, str] | None = None
) -> Callable[[httpx.Client, str], httpx.Response]:
    def send(client: httpx.Client, url: str) -> httpx.Response:
        if path is None:
            return post_envelope(client, url, body, project=project, headers=headers)
        return client.post(f"{url}{path}", content=body, headers={**project.auth, **(headers or {})})

    return send


def _chunked(body: bytes) -> Callable[[httpx.Client, str], httpx.Response]:
    def send(client: httpx.Client, url: str) -> httpx.Response:
        # A generator body goes out chunked: no Content-Length to refuse it by in advance.
        chunks = (body[i : i + 64 * 1024] for i in range(0, len(body), 64 * 1024))
        return client.post(API.envelope_url(url), content=chunks, headers=API.auth)

    return send


_, VALID = event_envelope()
OVERSIZED = b"{}\n" + b"x" * (MAX_COMPRESSED + 1)

REFUSALS = {
    "over the compressed limit": Refused(_post(OVERSIZED), 413, "too_large_compressed", "exceeds the size limit"),
    "over the compressed limit, chunked": Refused(
        _chunked(OVERSIZED), 413, "too_large_compressed", "exceeds the size limit"
    ),
    "unknown project": Refused(_post(VALID, path="/api/99/envelope/"), 403, "unknown_project", "unknown project 99"),
    "key of another project": Refused(
        _post(VALID, project=API, headers=DOWNSTREAM.auth), 401, "unknown_key", "not a key of project 1"
    ),
    "no credentials": Refused(
        lambda client, url: client.post(API.envelope_url(url), content=VALID),
        401,
        "auth",
        "missing authorization",
    ),
    "malformed envelope": Refused(_post(b"this is not an envelope\n"), 400, "malformed_envelope", "not valid JSON"),
    # JSON orjson reads (1,024 levels) but cannot write back (254): it was answered 503, "retry".
    "envelope header nested 300 deep": Refused(
        _post(b'{"x":' + b"[" * 300 + b"]" * 300 + b"}\n"), 400, "malformed_envelope", "nests too deeply"
    ),
    "store event nested 300 deep": Refused(
        _post(b'{"x":' + b"[" * 300 + b"]" * 300 + b"}", path="/api/1/store/"),
        400,
        "malformed_envelope",
        "nests too deeply",
    ),
    "undecodable gzip": Refused(
        _post(b"\x1f\x8b\x08\x00garbage", headers={"Content-Encoding": "gzip"}), 400, "undecodable_body", "gzip"
    ),
    "unsupported encoding": Refused(
        _post(VALID, headers={"Content-Encoding": "compress"}), 415, "unsupported_encoding", "'compress'"
    ),
    "project id not a number": Refused(
        _post(VALID, path="/api/shop/envelope/"), 400, "invalid_project", "invalid project id"
    ),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refusal_is_answered_with_relays_status_and_json_body(
    relay: RelayMock, http: httpx.Client, case: Refused
) -> None:
    response = case.send(http, relay.url)

    assert response.status_code == case.status
    body = response.json()
    assert set(body) == {"detail", "causes"}
    assert case.detail in body["detail"] + " ".join(body["causes"])
    assert isinstance(body["causes"], list)


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refusal_is_recorded_counted_and_leaves_relay_mock_serving(
    relay: RelayMock, inspector: Inspector, http: httpx.Client, case: Refused
) -> None:
    case.send(http, relay.url)

    [refusal] = inspector.wait_refusals(1)
    assert (refusal["status"], refusal["reason"]) == (case.status, case.reason)
    refused = inspector.stats()["refused"]
    assert refused["by_reason"] == {case.reason: 1}
    assert refused["by_status"] == {str(case.status): 1}
    event_id = send_event(http, relay.url)
    assert inspector.envelope(event_id=event_id)["project"]["name"] == "api"


def test_a_key_of_another_project_is_refused_naming_the_project_that_owns_it(
    relay: RelayMock, http: httpx.Client
) -> None:
    response = post_envelope(http, relay.url, VALID, project=API, headers=DOWNSTREAM.auth)

    assert response.status_code == 401
    assert response.json()["causes"] == ["that key belongs to project 2 (downstream)"]


def _bomb(compress: Callable[[Iterator[bytes]], bytes]) -> bytes:
    """An envelope whose attachment inflates to 150 MB of zeros, compressed a megabyte at a time."""
    header = b'{}\n{"type":"attachment","length":157286400}\n'
    return compress(iter([header, *([bytes(MiB)] * 150)]))


def _gzip(chunks: Iterator[bytes]) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return b"".join(packer.compress(chunk) for chunk in chunks) + packer.flush()


def _brotli(chunks: Iterator[bytes]) -> bytes:
    packer = brotli.Compressor(quality=5)
    return bytes(b"".join(packer.process(chunk) for chunk in chunks) + packer.finish())


def _zstd(chunks: Iterator[bytes]) -> bytes:
    packer = zstandard.ZstdCompressor(level=3).compressobj()
    return b"".join(packer.compress(chunk) for chunk in chunks) + packer.flush()


BOMBS = {"gzip": _gzip, "br": _brotli, "zstd": _zstd}


@pytest.mark.parametrize("encoding", BOMBS)
def test_a_compression_bomb_is_refused_without_inflating_it_in_memory(
    relay: RelayMock, inspector: Inspector, http: httpx.Client, encoding: str
) -> None:
    bomb = _bomb(BOMBS[encoding])
    assert len(bomb) < MAX_COMPRESSED, "the bomb must pass the compressed limit to reach the decoder"
    before = relay.memory_kib()

    response = post_envelope(http, relay.url, bomb, headers={"Content-Encoding": encoding})

    assert response.status_code == 413
    assert response.json()["detail"] == "envelope exceeds the decompressed size limit"
    peak_growth_mib = (relay.memory_kib()["VmHWM"] - before["VmRSS"]) / 1024
    assert peak_growth_mib < 16, f"resident memory peaked {peak_growth_mib:.1f} MiB above where it was"
    assert inspector.wait_refusals(1)[0]["reason"] == "too_large_decompressed"
