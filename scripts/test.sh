#!/usr/bin/env bash
# Run all tests:
#
#   bash scripts/test.sh
#
# Layers, in order (stops at the first failure, exits non-zero):
#   1. setup      toolchain + npm packages (scripts/setup.sh)
#   2. fmt        cargo fmt --check
#   3. clippy     cargo clippy --all-targets -- -D warnings   (host target)
#   4. unit       cargo test                                   (host; pure Rust unit tests)
#   5. build      the Wasm worker (scripts/build.sh)
#   6. e2e        node --test tests/e2e/*.test.mjs under Node 22 (against the built worker)
#   7. python     pytest tests/python, if that directory has tests (hook for a client test layer)
#
# SKIP="fmt clippy" bash scripts/test.sh   skips the named layers (not setup/build).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SKIP="${SKIP:-}"
declare -a SUMMARY=()
current=""
t0=$(date +%s)

on_exit() {
  rc=$?
  echo
  echo "[test] ================= summary ================="
  for line in "${SUMMARY[@]}"; do echo "[test] $line"; done
  if [ "$rc" -ne 0 ]; then
    echo "[test] FAILED in layer '${current:-?}' (exit $rc) after $(( $(date +%s) - t0 ))s"
  else
    echo "[test] all layers passed in $(( $(date +%s) - t0 ))s"
  fi
}
trap on_exit EXIT

# layer NAME CMD...: run one layer with a header and its time in the summary.
layer() {
  local name="$1"; shift
  current="$name"
  if [[ " $SKIP " == *" $name "* ]]; then
    SUMMARY+=("$(printf '%-8s skipped (SKIP)' "$name")")
    return 0
  fi
  echo
  echo "[test] ===== $name: $* ====="
  local s; s=$(date +%s)
  "$@"
  SUMMARY+=("$(printf '%-8s ok  %4ss' "$name" $(( $(date +%s) - s )))")
}

layer setup bash scripts/setup.sh
# shellcheck source=/dev/null
. target/.toolchain.env   # Node 22 first on PATH, MCP_SETUP_DONE=1, *_BIN for worker-build

layer fmt cargo fmt --all -- --check
layer clippy cargo clippy --all-targets -- -D warnings
layer unit cargo test
layer build bash scripts/build.sh

# --- end-to-end: Node's test runner over tests/e2e/*.test.mjs ----------------
e2e() {
  shopt -s nullglob
  local files=(tests/e2e/*.test.mjs)
  shopt -u nullglob
  if [ ${#files[@]} -eq 0 ]; then
    echo "[test] no tests/e2e/*.test.mjs yet: nothing to run"
    return 0
  fi
  echo "[test] node $(node --version) ($(command -v node))"
  # The tests start their own wrangler/miniflare on loopback; build/ is fresh, and
  # wrangler's [build] call to build.sh is a no-op while inputs are unchanged.
  node --test --test-concurrency=1 "${files[@]}"
}
layer e2e e2e

# --- hook: Python client tests (tests/python/test_*.py), in .venv -------------
python_tests() {
  if ! compgen -G 'tests/python/test_*.py' >/dev/null && ! compgen -G 'tests/python/**/test_*.py' >/dev/null; then
    echo "[test] no tests/python/test_*.py: nothing to run"
    return 0
  fi
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  local req=tests/python/requirements.txt
  local stamp=.venv/.mcp-req-stamp
  local want; want="$(cat "$req" 2>/dev/null | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    .venv/bin/pip install --quiet pytest
    [ -f "$req" ] && .venv/bin/pip install --quiet -r "$req"
    printf '%s' "$want" > "$stamp"
  fi
  local rc=0
  .venv/bin/python -m pytest tests/python || rc=$?
  # pytest exits 5 when it collected no tests: not a failure here.
  [ "$rc" -eq 5 ] && { echo "[test] pytest collected no tests"; return 0; }
  return "$rc"
}
layer python python_tests

current=""
