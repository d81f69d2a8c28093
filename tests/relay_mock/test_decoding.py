"""Content-Encoding decoding: every encoding Relay accepts, its failure modes, and its limits.

The bomb tests run decode_body in a child process and read the child's peak RSS, so the
measurement shows what one request costs, not what this test process happened to hold.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
import zlib
from pathlib import Path

import brotli
import pytest
import zstandard

from relay_mock.protocol.decoding import ZSTD_MAX_WINDOW, decode_body
from relay_mock.protocol.ingest_errors import PayloadTooLarge, UndecodableBody, UnsupportedEncoding

ENVELOPE = b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc"}\n{"type":"event"}\n{"message":"hello"}\n' * 50
LIMIT = 100 * 1024 * 1024  # Relay's decompressed envelope limit, the default max_envelope_bytes
MIB = 1024 * 1024
RELAY_MOCK = Path(__file__).resolve().parents[2] / "relay-mock"


def _zstd_streamed(data: bytes) -> bytes:
    packer = zstandard.ZstdCompressor(level=3).compressobj()  # no content size in the frame header
    return packer.compress(data) + packer.flush()


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


ENCODED = {
    "gzip": ("gzip", gzip.compress(ENVELOPE)),
    "gzip-two-members": ("gzip", gzip.compress(ENVELOPE[:100]) + gzip.compress(ENVELOPE[100:])),
    "gzip-zero-padded": ("gzip", gzip.compress(ENVELOPE) + b"\0" * 16),
    "x-gzip": ("x-gzip", gzip.compress(ENVELOPE)),
    "deflate-zlib": ("deflate", zlib.compress(ENVELOPE)),
    "deflate-raw": ("deflate", _raw_deflate(ENVELOPE)),
    "br": ("br", brotli.compress(ENVELOPE, quality=4)),
    "zstd": ("zstd", zstandard.ZstdCompressor().compress(ENVELOPE)),
    "zstd-two-frames": ("zstd", zstandard.ZstdCompressor().compress(ENVELOPE[:100]) + _zstd_streamed(ENVELOPE[100:])),
    "zstd-streamed": ("zstd", _zstd_streamed(ENVELOPE)),
    "zstd-skippable-frame": (
        "zstd",
        (0x184D2A50).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"abc" + _zstd_streamed(ENVELOPE),
    ),
}
COMPRESSED = {
    encoding: ENCODED[case][1]
    for encoding, case in [("gzip", "gzip"), ("deflate", "deflate-zlib"), ("br", "br"), ("zstd", "zstd")]
}


@pytest.mark.parametrize("case", sorted(ENCODED))
def test_each_encoding_round_trips(case: str) -> None:
    encoding, body = ENCODED[case]
    assert decode_body(body, encoding, max_size=LIMIT) == ENVELOPE


@pytest.mark.parametrize("header", ["", "identity", "UTF-8", "utf8", " Identity "])
def test_identity_spellings_return_the_body_unchanged(header: str) -> None:
    assert decode_body(ENVELOPE, header, max_size=LIMIT) == ENVELOPE


def test_output_past_the_spool_threshold_round_trips_through_the_temporary_file() -> None:
    data = os.urandom(64 * 1024) * 8
    assert decode_body(gzip.compress(data, compresslevel=1), "gzip", max_size=LIMIT, spool_bytes=1024) == data


@pytest.mark.parametrize(
    ("encoding", "detail"),
    [
        ("gzip", "gzip body is truncated"),
        ("deflate", "deflate body is truncated"),
        ("br", "br body is truncated"),
        ("zstd", "zstd body is truncated"),
    ],
)
def test_a_truncated_body_is_undecodable(encoding: str, detail: str) -> None:
    body = COMPRESSED[encoding]
    with pytest.raises(UndecodableBody) as refused:
        decode_body(body[: len(body) // 2], encoding, max_size=LIMIT)
    assert (refused.value.status, refused.value.detail) == (400, detail)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_a_body_missing_only_its_last_byte_is_undecodable(encoding: str) -> None:
    with pytest.raises(UndecodableBody, match="truncated"):
        decode_body(COMPRESSED[encoding][:-1], encoding, max_size=LIMIT)


@pytest.mark.parametrize(
    ("encoding", "detail"),
    [
        ("gzip", "gzip body is truncated"),
        ("deflate", "deflate body is truncated"),
        ("br", "br body is truncated"),
        ("zstd", "zstd body is empty"),
    ],
)
def test_an_empty_compressed_body_is_undecodable(encoding: str, detail: str) -> None:
    with pytest.raises(UndecodableBody) as refused:
        decode_body(b"", encoding, max_size=LIMIT)
    assert refused.value.detail == detail


@pytest.mark.parametrize(
    ("encoding", "detail"),
    [
        ("gzip", "gzip body cannot be decoded"),
        ("deflate", "deflate body cannot be decoded"),
        ("br", "br body cannot be decoded"),
        ("zstd", "zstd body cannot be decoded"),
    ],
)
def test_garbage_is_undecodable(encoding: str, detail: str) -> None:
    with pytest.raises(UndecodableBody) as refused:
        decode_body(b"this was never compressed", encoding, max_size=LIMIT)
    assert (refused.value.status, refused.value.detail) == (400, detail)


@pytest.mark.parametrize(
    ("encoding", "detail"),
    [
        ("gzip", "gzip body cannot be decoded"),  # read as a second member with a bad header
        ("deflate", "deflate body has trailing bytes"),
        ("br", "br body cannot be decoded"),
        ("zstd", "zstd body cannot be decoded"),
    ],
)
def test_garbage_after_a_complete_stream_is_undecodable(encoding: str, detail: str) -> None:
    with pytest.raises(UndecodableBody) as refused:
        decode_body(COMPRESSED[encoding] + b"garbage", encoding, max_size=LIMIT)
    assert refused.value.detail == detail


def test_a_zstd_window_above_the_limit_is_undecodable() -> None:
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=ZSTD_MAX_WINDOW.bit_length())
    packer = zstandard.ZstdCompressor(compression_params=params).compressobj()
    body = packer.compress(ENVELOPE) + packer.flush()
    with pytest.raises(UndecodableBody) as refused:
        decode_body(body, "zstd", max_size=LIMIT)
    assert refused.value.detail == "zstd body cannot be decoded"


@pytest.mark.parametrize("encoding", ["compress", "lzma", "snappy"])
def test_an_unknown_encoding_is_unsupported_media_type(encoding: str) -> None:
    with pytest.raises(UnsupportedEncoding) as refused:
        decode_body(ENVELOPE, encoding, max_size=LIMIT)
    assert refused.value.status == 415
    assert refused.value.detail == f"unsupported content encoding {encoding!r}"
    assert refused.value.causes == ["supported: identity, gzip, deflate, br, zstd"]


@pytest.mark.parametrize("case", sorted(ENCODED))
def test_output_over_the_limit_is_too_large(case: str) -> None:
    encoding, body = ENCODED[case]
    with pytest.raises(PayloadTooLarge) as refused:
        decode_body(body, encoding, max_size=len(ENVELOPE) - 1)
    assert (refused.value.status, refused.value.reason) == (413, "too_large_decompressed")
    assert refused.value.detail == "envelope exceeds the decompressed size limit"
    assert refused.value.causes == [f"more than {len(ENVELOPE) - 1} bytes after decoding"]


@pytest.mark.parametrize("case", sorted(ENCODED))
def test_output_exactly_at_the_limit_is_accepted(case: str) -> None:
    encoding, body = ENCODED[case]
    assert decode_body(body, encoding, max_size=len(ENVELOPE)) == ENVELOPE


def test_an_identity_body_over_the_limit_is_too_large() -> None:
    with pytest.raises(PayloadTooLarge) as refused:
        decode_body(ENVELOPE, "identity", max_size=len(ENVELOPE) - 1)
    assert (refused.value.status, refused.value.reason) == (413, "too_large_decompressed")


def test_many_tiny_gzip_members_decode_in_linear_time() -> None:
    # Regression: each member's end copied the rest of the body: about 45 s.
    body = gzip.compress(b"", mtime=0) * 200_000  # 4 MB
    started = time.monotonic()
    assert decode_body(body, "gzip", max_size=LIMIT) == b""
    assert time.monotonic() - started < 5


# -- decompression bombs: ~1 GB of zeros against the default 100 MB limit -------------------------

_CHILD = """
import json, resource, sys
from relay_mock.protocol.decoding import decode_body
from relay_mock.protocol.ingest_errors import PayloadTooLarge

def peak_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

body = open(sys.argv[1], "rb").read()
encoding, limit = sys.argv[2], int(sys.argv[3])
before = peak_kib()
try:
    decode_body(body, encoding, max_size=limit)
    outcome = "decoded"
except PayloadTooLarge as exc:
    outcome = f"{exc.status} {exc.reason}"
print(json.dumps({"outcome": outcome, "growth_kib": peak_kib() - before}))
"""


def _zeros_gzip(total_mib: int) -> bytes:
    # Compressing 1 GB at level 9 takes seconds; a fully flushed block of 1 MiB of zeros
    # decodes on its own, so repeating it builds the same stream in a fraction of that.
    zeros = b"\0" * MIB
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(total_mib):
        crc = zlib.crc32(zeros, crc)
    size = (total_mib * MIB) & 0xFFFFFFFF
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return header + block * total_mib + packer.flush() + crc.to_bytes(4, "little") + size.to_bytes(4, "little")


def _zeros_br(total_mib: int, *, lgwin: int = 22) -> bytes:
    packer = brotli.Compressor(quality=1, lgwin=lgwin)
    zeros = b"\0" * MIB
    body: bytes = b"".join(packer.process(zeros) for _ in range(total_mib)) + packer.finish()
    return body


def _zeros_zstd(total_mib: int, *, window_log: int | None = None) -> bytes:
    if window_log is None:
        packer = zstandard.ZstdCompressor(level=3).compressobj()
    else:
        params = zstandard.ZstdCompressionParameters.from_level(3, window_log=window_log)
        packer = zstandard.ZstdCompressor(compression_params=params).compressobj()
    zeros = b"\0" * MIB
    return b"".join(packer.compress(zeros) for _ in range(total_mib)) + packer.flush()


def _decode_in_child(tmp_path: Path, body: bytes, encoding: str) -> tuple[str, int]:
    """Decode `body` in a fresh interpreter: (outcome, growth of its peak RSS in KiB)."""
    bomb = tmp_path / f"bomb.{encoding}"
    bomb.write_bytes(body)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(RELAY_MOCK), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, str(bomb), encoding, str(LIMIT)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    result = json.loads(child.stdout)
    return str(result["outcome"]), int(result["growth_kib"])


def test_a_gzip_bomb_is_refused_without_growing_the_process(tmp_path: Path) -> None:
    body = _zeros_gzip(1024)
    assert len(body) < 1.1 * MIB
    outcome, growth_kib = _decode_in_child(tmp_path, body, "gzip")
    assert outcome == "413 too_large_decompressed"
    assert growth_kib < 16 * 1024


def test_a_br_bomb_is_refused_without_growing_the_process(tmp_path: Path) -> None:
    outcome, growth_kib = _decode_in_child(tmp_path, _zeros_br(1024), "br")
    assert outcome == "413 too_large_decompressed"
    assert growth_kib < 16 * 1024


def test_a_zstd_bomb_is_refused_without_growing_the_process(tmp_path: Path) -> None:
    outcome, growth_kib = _decode_in_child(tmp_path, _zeros_zstd(1024), "zstd")
    assert outcome == "413 too_large_decompressed"
    assert growth_kib < 16 * 1024


# The decoders must hold one window of history, so a bomb made with the largest window the
# format (br: 16 MiB) or relay-mock (zstd: ZSTD_MAX_WINDOW) allows costs that much more.


def test_a_br_bomb_with_the_largest_window_costs_at_most_the_window_more(tmp_path: Path) -> None:
    outcome, growth_kib = _decode_in_child(tmp_path, _zeros_br(1024, lgwin=24), "br")
    assert outcome == "413 too_large_decompressed"
    assert growth_kib < (16 + 16) * 1024


def test_a_zstd_bomb_with_the_largest_window_costs_at_most_the_window_more(tmp_path: Path) -> None:
    window_log = ZSTD_MAX_WINDOW.bit_length() - 1
    outcome, growth_kib = _decode_in_child(tmp_path, _zeros_zstd(1024, window_log=window_log), "zstd")
    assert outcome == "413 too_large_decompressed"
    assert growth_kib < (ZSTD_MAX_WINDOW // 1024) + 16 * 1024
