# Shared helpers for the scripts (sourced, not run).
# OFFLINE=1 builds on local base images made from Debian packages (no registry needed).

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if [ "${OFFLINE:-0}" = 1 ]; then
  export PYTHON_IMAGE=${PYTHON_IMAGE:-sandbox-offline/python:3.11}
  export POSTGRES_IMAGE=${POSTGRES_IMAGE:-sandbox-offline/postgres:15}
fi

project_name() { echo "${COMPOSE_PROJECT_NAME:-sentry-sandbox}"; }

compose() { docker compose "$@"; }

prepare_images() {
  if [ "${OFFLINE:-0}" = 1 ]; then
    step "offline base images and wheelhouse"
    scripts/offline-images.sh
    scripts/wheelhouse.sh
  fi
}

# The project's Python environment for tests and tools (Python 3.11, like the images).
ensure_venv() {
  local stamp=.venv/.requirements.sha256 want
  want=$(sha256sum requirements/dev.txt | cut -d' ' -f1)
  if [ ! -x .venv/bin/python ]; then
    step "creating .venv"
    python3 -m venv .venv
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    step "installing requirements/dev.txt into .venv"
    .venv/bin/pip install --quiet --disable-pip-version-check -r requirements/dev.txt \
      2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    echo "$want" >"$stamp"
  fi
}

# .venv3: the same environment with sentry-python 3 (requirements/dev-sdk3.txt), for the
# services' in-process suites under the SDK's next major (scripts/test-sdk3.sh).
ensure_venv3() {
  local stamp=.venv3/.requirements.sha256 want
  want=$(sha256sum requirements/dev-sdk3.txt | cut -d' ' -f1)
  if [ ! -x .venv3/bin/python ]; then
    step "creating .venv3"
    python3 -m venv .venv3
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    step "installing requirements/dev-sdk3.txt into .venv3"
    .venv3/bin/pip install --quiet --disable-pip-version-check -r requirements/dev-sdk3.txt \
      2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    echo "$want" >"$stamp"
  fi
}

# TypeScript for the web UI's type check (relay-mock/ui-check), as its package-lock.json pins it.
# `npm ci` runs only when the lock file changed since the last install (a stamp in node_modules).
# Debian 12's nodejs (18) and npm are enough; .ci/run installs them.
UI_CHECK=relay-mock/ui-check
ensure_ui_check() {
  local stamp=$UI_CHECK/node_modules/.lock.sha256 want
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "the UI type check needs node and npm: apt-get install -y nodejs npm" >&2
    return 1
  fi
  want=$(sha256sum "$UI_CHECK/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -x "$UI_CHECK/node_modules/.bin/tsc" ]; then
    step "installing $UI_CHECK/package-lock.json (npm ci)"
    (cd "$UI_CHECK" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
  fi
}
