#!/bin/sh
# Install pinned requirements into /opt/venv. Offline builds find the wheels in
# /tmp/wheelhouse (filled on the host by `make wheelhouse`); everyone else uses the index.
set -eu
requirements=$1
python3 -m venv /opt/venv
if ls /tmp/wheelhouse/*.whl >/dev/null 2>&1; then
  /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-index --find-links /tmp/wheelhouse -r "$requirements"
else
  /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r "$requirements"
fi
