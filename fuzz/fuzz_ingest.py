"""Coverage-guided fuzzing of relay-mock's ingest pipeline (`build_record`), with atheris.

The contract under test: any request yields an EnvelopeRecord or an IngestError with a 4xx
status; anything else is a crash. `check_one` holds the whole oracle, so the corpus replay
test (tests/relay_mock/test_fuzz_corpus.py) runs the same checks in CI without atheris.

An input is one selector byte, then the body. The selector lets the fuzzer choose:

    bits 0-2  Content-Encoding: identity, gzip, deflate, br, zstd, "" (identity), x-gzip, compress
    bit 3     1: the harness compresses the rest (mutations reach the envelope grammar);
              0: the rest is the body as sent (mutations reach the decoders)
    bit 4     endpoint: 0 envelope, 1 store
    bits 5-6  credentials: X-Sentry-Auth, ?sentry_key=, Authorization: Basic, none (envelope dsn)
    bit 7     with bit 3 and deflate: 0 zlib-wrapped, 1 raw deflate

Run it with scripts/fuzz.sh; `python fuzz/fuzz_ingest.py -help=1` lists libFuzzer's options.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import sys
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import brotli
import orjson
import zstandard

try:
    import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]
except ImportError:  # CI replays the corpus without atheris
    atheris = None


def _instrumented() -> contextlib.AbstractContextManager[object]:
    # Coverage feedback from relay_mock's code only, and only when running as the fuzzer.
    if atheris is not None and __name__ == "__main__":
        return atheris.instrument_imports(include=["relay_mock"])  # type: ignore[no-any-return]
    return contextlib.nullcontext()


with _instrumented():
    from relay_mock.ingest import build_record
    from relay_mock.protocol.ingest_errors import IngestError
    from relay_mock.settings import RelaySettings, load_projects
    from relay_mock.store.records import EnvelopeRecord

ENCODINGS = ("identity", "gzip", "deflate", "br", "zstd", "", "x-gzip", "compress")
AUTH_FORMS = ("x-sentry-auth", "query", "basic", "none")
PROJECT_ID = 1
PUBLIC_KEY = "a1f2c3d4e5f60718293a4b5c6d7e8f90"  # project 1 of the default projects
DSN = f"http://{PUBLIC_KEY}@relay-mock:9000/{PROJECT_ID}"

PROJECTS = load_projects({})
SETTINGS = RelaySettings(data_dir=Path(tempfile.gettempdir()))


class ContractViolation(AssertionError):
    """build_record answered in a way the contract forbids (a 5xx, or a record the writer cannot store)."""


@dataclass(frozen=True)
class Case:
    encoding: str
    compress: bool
    endpoint: str
    auth: str
    raw_deflate: bool
    payload: bytes  # what follows the selector byte

    @property
    def body(self) -> bytes:
        return compress(self.payload, self.encoding, raw_deflate=self.raw_deflate) if self.compress else self.payload


def selector(
    encoding: str, *, compress: bool, endpoint: str = "envelope", auth: str = "x-sentry-auth", raw_deflate: bool = False
) -> int:
    """The selector byte of a case (for writing seeds)."""
    return (
        ENCODINGS.index(encoding)
        | compress << 3
        | (endpoint == "store") << 4
        | AUTH_FORMS.index(auth) << 5
        | raw_deflate << 7
    )


def decode_case(data: bytes) -> Case:
    head = data[0] if data else 0
    return Case(
        encoding=ENCODINGS[head & 0x07],
        compress=bool(head & 0x08),
        endpoint="store" if head & 0x10 else "envelope",
        auth=AUTH_FORMS[(head >> 5) & 0x03],
        raw_deflate=bool(head & 0x80),
        payload=data[1:],
    )


def compress(data: bytes, encoding: str, *, raw_deflate: bool = False) -> bytes:
    """`data` encoded as a client would send it; unchanged for identity and unsupported encodings."""
    if encoding in ("gzip", "x-gzip"):
        return gzip.compress(data, compresslevel=6, mtime=0)
    if encoding == "deflate":
        packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)
        return packer.compress(data) + packer.flush()
    if encoding == "br":
        packed: bytes = brotli.compress(data, quality=4)  # sentry-python's level
        return packed
    if encoding == "zstd":
        return zstandard.ZstdCompressor(level=3).compress(data)
    return data


def request_headers(case: Case) -> tuple[dict[str, str], str]:
    headers = {"content-type": "application/x-sentry-envelope", "user-agent": "sentry.python/2.75.0"}
    if case.encoding != "identity":
        headers["content-encoding"] = case.encoding
    query = ""
    if case.auth == "x-sentry-auth":
        headers["x-sentry-auth"] = f"Sentry sentry_key={PUBLIC_KEY}, sentry_version=7, sentry_client=fuzz/1.0"
    elif case.auth == "basic":
        headers["authorization"] = "Basic " + base64.b64encode(f"{PUBLIC_KEY}:".encode()).decode()
    elif case.auth == "query":
        query = f"sentry_key={PUBLIC_KEY}&sentry_version=7"
    return headers, query


def check_one(data: bytes) -> EnvelopeRecord | IngestError:
    """Run one fuzz input through build_record; raise unless the contract holds."""
    case = decode_case(data)
    headers, query = request_headers(case)
    path = f"/api/{PROJECT_ID}/{case.endpoint}/"
    try:
        record = build_record(
            PROJECTS,
            SETTINGS,
            project_part=str(PROJECT_ID),
            endpoint=case.endpoint,
            path=path,
            headers=headers,
            query_string=query,
            body=case.body,
            received_at=0.0,
        )
    except IngestError as exc:
        if not 400 <= exc.status < 500:
            raise ContractViolation(f"{type(exc).__name__} with status {exc.status}: {exc.detail}") from exc
        exc.body()  # the response body must build
        return exc
    _check_storable(record)
    return record


def _check_storable(record: EnvelopeRecord) -> None:
    # What the store writer does with a record next: it must not fail there either.
    if len(record.raw) > SETTINGS.max_envelope_bytes:
        raise ContractViolation(f"{len(record.raw)} decoded bytes passed the {SETTINGS.max_envelope_bytes} limit")
    orjson.dumps(record.header)
    for item in record.items:
        orjson.dumps(item.summary)
        if item.offset + item.length > len(record.raw):
            raise ContractViolation(f"item {item.idx} points past the envelope ({item.offset}+{item.length})")


def test_one_input(data: bytes) -> None:
    check_one(data)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    if atheris is None:
        sys.exit("atheris is not installed: .venv/bin/pip install atheris")
    main()
