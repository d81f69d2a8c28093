#!/usr/bin/env bash
# Build local stand-ins for the official base images from Debian packages, for machines
# that reach Debian's archive but no container registry (air-gapped networks, this
# project's CI). Produces sandbox-offline/python:3.11 and sandbox-offline/postgres:15.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON_TAG=sandbox-offline/python:3.11
POSTGRES_TAG=sandbox-offline/postgres:15
SUITE=bookworm

log() { printf '[offline-images] %s\n' "$*" >&2; }

if [ "${FORCE:-0}" != 1 ] && docker image inspect "$PYTHON_TAG" "$POSTGRES_TAG" >/dev/null 2>&1; then
  log "$PYTHON_TAG and $POSTGRES_TAG already exist (FORCE=1 rebuilds them)"
  exit 0
fi
command -v debootstrap >/dev/null || { log "debootstrap is missing: apt-get install debootstrap"; exit 1; }

mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
work=$(mktemp -d /tmp/sandbox-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT

bootstrap() {  # name, extra packages
  local name=$1 packages=$2
  log "debootstrap $name ($packages) from $mirror"
  debootstrap --variant=minbase --include="$packages" "$SUITE" "$work/$name" "$mirror" >"$work/$name.log" 2>&1 \
    || { tail -n 30 "$work/$name.log" >&2; return 1; }
  rm -rf "$work/$name"/var/lib/apt/lists/* "$work/$name"/var/cache/apt/*.bin "$work/$name"/var/cache/apt/archives/*.deb
  tar -C "$work/$name" -c . | docker import - "sandbox-offline/rootfs-$name:$SUITE" >/dev/null
  log "imported sandbox-offline/rootfs-$name:$SUITE"
}

# Both at once: the work is mostly waiting on the network.
bootstrap python "python3,python3-venv,ca-certificates" & python_pid=$!
bootstrap postgres "postgresql,ca-certificates,locales" & postgres_pid=$!
wait "$python_pid"
wait "$postgres_pid"

docker build -q -t "$PYTHON_TAG" -f docker/offline/python.Dockerfile docker/offline >/dev/null
docker build -q -t "$POSTGRES_TAG" -f docker/offline/postgres.Dockerfile docker/offline >/dev/null
log "built $PYTHON_TAG and $POSTGRES_TAG"
