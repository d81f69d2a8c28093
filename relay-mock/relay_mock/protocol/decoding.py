"""Content-Encoding decoders with hard limits, applied while inflating.

Output is produced in bounded steps and counted as it grows, so a decompression bomb
is refused after at most `max_size` bytes of output, and output past `spool_bytes`
goes to a temporary file rather than memory: a small bomb cannot grow the process.
"""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import Iterator
from typing import IO

import brotli
import zstandard

from relay_mock.protocol.ingest_errors import PayloadTooLarge, UndecodableBody, UnsupportedEncoding

STEP = 256 * 1024  # output produced per decompressor call
IN_FIRST, IN_STEP = 1024, 64 * 1024  # input handed to zlib per call: from IN_FIRST doubling to IN_STEP
ZSTD_MAX_WINDOW = 1 << 23  # 8 MiB: zstd's own default for levels up to 19; no SDK sends more

IDENTITY = frozenset({"", "identity", "utf-8", "utf8"})
SUPPORTED = ("identity", "gzip", "deflate", "br", "zstd")


def normalise_encoding(header: str | None) -> str:
    value = (header or "").strip().lower()
    return "identity" if value in IDENTITY else value


def decode_body(body: bytes, encoding: str, *, max_size: int, spool_bytes: int = 4 << 20) -> bytes:
    """Return the decoded body, or raise UnsupportedEncoding, UndecodableBody or PayloadTooLarge."""
    encoding = normalise_encoding(encoding)
    if encoding == "identity":
        if len(body) > max_size:
            raise _too_large(max_size)
        return body
    chunks = _decoder(encoding)(body)
    parts: list[bytes] = []
    total = 0
    spool: IO[bytes] | None = None
    try:
        for chunk in chunks:
            total += len(chunk)
            if total > max_size:
                raise _too_large(max_size)
            if spool is None and total > spool_bytes:
                # A plain temporary file: SpooledTemporaryFile(max_size=0) never rolls over to
                # disk (0 means "no limit"), which kept a whole bomb's output in memory.
                spool = tempfile.TemporaryFile()
                spool.writelines(parts)
                parts.clear()
            if spool is None:
                parts.append(chunk)
            else:
                spool.write(chunk)
        if spool is None:
            return b"".join(parts)
        spool.seek(0)
        return spool.read()
    finally:
        if spool is not None:
            spool.close()


def _too_large(max_size: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        "envelope exceeds the decompressed size limit",
        f"more than {max_size} bytes after decoding",
        reason="too_large_decompressed",
    )


def _decoder(encoding: str):  # type: ignore[no-untyped-def]
    if encoding in ("gzip", "x-gzip"):
        return _inflate_gzip
    if encoding == "deflate":
        return _inflate_deflate
    if encoding == "br":
        return _inflate_brotli
    if encoding == "zstd":
        return _inflate_zstd
    raise UnsupportedEncoding(f"unsupported content encoding {encoding!r}", f"supported: {', '.join(SUPPORTED)}")


def _inflate_zlib(body: bytes, wbits: int, name: str) -> Iterator[bytes]:
    # Input goes in as memoryview slices, small at the start of each stream and doubling:
    # zlib copies everything it was given past a stream's end into `unused_data`, so
    # handing it the whole body made a body of many tiny gzip members cost quadratic time.
    view = memoryview(body)
    size = len(body)
    pos = 0  # input handed to zlib so far
    try:
        while True:
            inflater = zlib.decompressobj(wbits)
            feed = IN_FIRST
            pending: bytes | memoryview = b""
            out = b""
            while not inflater.eof:
                if not pending:
                    if pos >= size and not out:
                        raise UndecodableBody(
                            f"{name} body is truncated", "the compressed stream ends before its end marker"
                        )
                    pending = view[pos : pos + feed]
                    pos += len(pending)
                    feed = min(feed * 2, IN_STEP)
                out = inflater.decompress(pending, STEP)
                if out:
                    yield out
                pending = inflater.unconsumed_tail
            pos -= len(inflater.unused_data)  # re-read from the view, not from zlib's copy
            if pos == size:
                return
            # gzip allows several members back to back (and zero padding after the last);
            # anything else after the end is garbage.
            if not wbits & 16:
                raise UndecodableBody(
                    f"{name} body has trailing bytes", f"{size - pos} bytes after the end of the stream"
                )
            if body[pos] == 0 and body.count(0, pos) == size - pos:
                return
    except zlib.error as exc:
        raise UndecodableBody(f"{name} body cannot be decoded", str(exc)) from None


def _inflate_gzip(body: bytes) -> Iterator[bytes]:
    return _inflate_zlib(body, 16 + zlib.MAX_WBITS, "gzip")


def _inflate_deflate(body: bytes) -> Iterator[bytes]:
    # HTTP's "deflate" is zlib-wrapped, but raw deflate is common in the wild: accept both.
    wrapped = len(body) >= 2 and (body[0] & 0x0F) == 8 and ((body[0] << 8) | body[1]) % 31 == 0
    return _inflate_zlib(body, zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS, "deflate")


def _inflate_brotli(body: bytes) -> Iterator[bytes]:
    inflater = brotli.Decompressor()
    try:
        out = inflater.process(body, output_buffer_limit=STEP)
        if out:
            yield out
        while not inflater.is_finished() and not inflater.can_accept_more_data():
            out = inflater.process(b"", output_buffer_limit=STEP)
            if out:
                yield out
    except brotli.error as exc:
        raise UndecodableBody("br body cannot be decoded", str(exc) or "invalid brotli stream") from None
    if not inflater.is_finished():
        raise UndecodableBody("br body is truncated", "the brotli stream ends before its last block")


def _inflate_zstd(body: bytes) -> Iterator[bytes]:
    # The streaming reader bounds output but says nothing of a stream cut short,
    # so the frame structure is walked first (block headers only, no decoding).
    _check_zstd_frames(body)
    inflater = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
    try:
        with inflater.stream_reader(body, read_across_frames=True) as reader:
            while True:
                out = reader.read(STEP)
                if not out:
                    return
                yield out
    except zstandard.ZstdError as exc:
        raise UndecodableBody("zstd body cannot be decoded", str(exc)) from None


_ZSTD_MAGIC = 0xFD2FB528
_DICT_ID_BYTES = (0, 1, 2, 4)
_CONTENT_SIZE_BYTES = (0, 2, 4, 8)


def _check_zstd_frames(body: bytes) -> None:
    """Walk zstd frames and block headers; raise if a frame is cut short or garbage follows."""
    pos, size = 0, len(body)
    if size == 0:
        raise UndecodableBody("zstd body is empty", "no zstd frame")

    def need(count: int) -> None:
        if pos + count > size:
            raise UndecodableBody("zstd body is truncated", f"a frame needs {pos + count - size} more bytes")

    while pos < size:
        need(4)
        magic = int.from_bytes(body[pos : pos + 4], "little")
        pos += 4
        if magic & 0xFFFFFFF0 == 0x184D2A50:  # skippable frame
            need(4)
            pos += 4 + int.from_bytes(body[pos : pos + 4], "little")
            need(0)
            continue
        if magic != _ZSTD_MAGIC:
            raise UndecodableBody("zstd body cannot be decoded", f"no zstd frame at byte {pos - 4}")
        need(1)
        descriptor = body[pos]
        single_segment = bool(descriptor & 0x20)
        content_size = _CONTENT_SIZE_BYTES[descriptor >> 6] or (1 if single_segment else 0)
        pos += 1 + (0 if single_segment else 1) + _DICT_ID_BYTES[descriptor & 0x03] + content_size
        need(0)
        while True:
            need(3)
            block = int.from_bytes(body[pos : pos + 3], "little")
            pos += 3
            block_type = (block >> 1) & 0x03
            if block_type == 3:
                raise UndecodableBody("zstd body cannot be decoded", f"reserved block type at byte {pos - 3}")
            pos += 1 if block_type == 1 else block >> 3
            need(0)
            if block & 1:
                break
        if descriptor & 0x04:
            pos += 4  # content checksum
            need(0)
