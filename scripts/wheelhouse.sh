#!/usr/bin/env bash
# Download (or build) wheels for every pinned image requirement into wheelhouse/, so
# image builds can install them without reaching a package index from inside a container.
# The images run CPython 3.11 on the host's architecture; the host must match (it does
# on Debian 12, whose python3 is 3.11).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "[wheelhouse] needs CPython 3.11 to match the images (set PYTHON=...)" >&2
  exit 1
fi
# catalog (compose profile otel) builds from a lock of its own, with a stamp of its own.
catalog_stamp=wheelhouse/.catalog-requirements.sha256
catalog_want=$(sha256sum requirements/catalog.txt | cut -d' ' -f1)
if [ "$(cat "$catalog_stamp" 2>/dev/null)" != "$catalog_want" ]; then
  echo "[wheelhouse] collecting wheels for requirements/catalog.txt" >&2
  "$python" -m pip wheel --quiet --disable-pip-version-check --no-deps -w wheelhouse -r requirements/catalog.txt \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  echo "$catalog_want" >"$catalog_stamp"
fi
stamp=wheelhouse/.requirements.sha256
want=$(cat requirements/service.txt requirements/service-sdk3.txt requirements/relay.txt requirements/locust.txt | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && ls wheelhouse/*.whl >/dev/null 2>&1; then
  echo "[wheelhouse] up to date" >&2
  exit 0
fi
echo "[wheelhouse] collecting wheels for requirements/{service,service-sdk3,relay,locust}.txt" >&2
"$python" -m pip wheel --quiet --disable-pip-version-check --no-deps -w wheelhouse \
  -r requirements/service.txt -r requirements/relay.txt -r requirements/locust.txt \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
# The services' images on sentry-python 3 (API_SENTRY_SDK / DOWNSTREAM_SENTRY_SDK=3): a lock of
# its own, which pins another sentry-sdk, so pip reads it in a second run.
"$python" -m pip wheel --quiet --disable-pip-version-check --no-deps -w wheelhouse \
  -r requirements/service-sdk3.txt \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
echo "$want" >"$stamp"
echo "[wheelhouse] $(ls wheelhouse/*.whl | wc -l) wheels" >&2
