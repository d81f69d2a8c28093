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
import gzip
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import brotli
import orjson
import zstandard

from fuzz.harness import ContractViolation, check_items_inside, check_refusal, fuzz, instrumented

with instrumented(__name__):  # coverage feedback from relay_mock only, and only as the fuzzer
    from relay_mock.ingest import IngestRequest, build_record
    from relay_mock.protocol.ingest_errors import IngestError
    from relay_mock.sandbox_projects import API
    from relay_mock.settings import RelaySettings, load_projects
    from relay_mock.store.records import EnvelopeRecord

ENCODINGS = ("identity", "gzip", "deflate", "br", "zstd", "", "x-gzip", "compress")
AUTH_FORMS = ("x-sentry-auth", "query", "basic", "none")
PROJECT_ID = API.id
PUBLIC_KEY = API.public_key  # project 1 of the default projects
DSN = f"http://{PUBLIC_KEY}@relay-mock:9000/{PROJECT_ID}"

PROJECTS = load_projects({})
SETTINGS = RelaySettings(data_dir=Path(tempfile.gettempdir()))


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
            IngestRequest(
                project_part=str(PROJECT_ID),
                path=path,
                headers=headers,
                query_string=query,
                body=case.body,
                received_at=0.0,
            ),
            endpoint=case.endpoint,
        )
    except IngestError as exc:
        check_refusal(exc)
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
    check_items_inside(record)


if __name__ == "__main__":
    fuzz(check_one)
