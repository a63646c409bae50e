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
#   6. e2e        node --test tests/e2e/*.test.mjs under Node 22 (against the built worker), two files at a time
#   7. browser    the gallery and the image viewer in headless Chromium (Debian `chromium`,
#                 installed by tests/browser/setup.sh when missing) driven by puppeteer-core;
#                 screenshots go to target/artifacts/gallery-*.png and viewer-*.png
#   8. clients    real clients against the built worker: Python mcp and openai (tests/clients/python),
#                 MCP Inspector CLI, the conformance suite (tests/clients/*.test.mjs)
#
# SKIP="fmt clippy" bash scripts/test.sh   skips the named layers (not setup/build).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SKIP="${SKIP:-}"
mkdir -p target
COUNTS="target/.test-output.log"   # output of the test runners, for the closing count line
: > "$COUNTS"
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
  totals   # last line: the plain "tests: N passed, N failed" count
}
trap on_exit EXIT

# counted CMD...: run a test runner, keeping its output for the totals line.
counted() { "$@" 2>&1 | tee -a "$COUNTS"; }

# One plain "tests: N passed, N failed" line summing every runner's own summary:
# cargo test ("test result: ok. N passed; N failed"), node --test spec reporter
# ("ℹ pass N" / "ℹ fail N" / "ℹ cancelled N") and pytest ("N passed, N failed in ...").
totals() {
  [ -s "$COUNTS" ] || return 0
  sed 's/\x1b\[[0-9;]*m//g' "$COUNTS" | awk '
    /^test result: / { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?/) p += $i; if ($(i+1) ~ /^failed;?/) f += $i } }
    /^ℹ pass [0-9]+$/ { p += $3 }  /^ℹ (fail|cancelled) [0-9]+$/ { f += $3 }
    /^=+ .*( passed| failed).* in [0-9.]+s/ {
      for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed,?$/) p += $i; if ($(i+1) ~ /^(failed|errors?),?$/) f += $i } }
    END { printf "tests: %d passed, %d failed\n", p, f }'
}

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
layer unit counted cargo test
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
  # The tests run build/ (fresh from the build layer) in their own Miniflare on loopback;
  # if one starts `wrangler dev`, wrangler's [build] call to build.sh is a no-op.
  # Files run two at a time (E2E_CONCURRENCY): each starts its own instances on port 0, with
  # storage of their own (in memory, or a fresh temp dir), so no two share state. On a 2-core
  # machine the layer took 546 s one file at a time and 288 s two at a time (2026-12-04).
  counted node --test --test-reporter=spec --test-concurrency="${E2E_CONCURRENCY:-2}" "${files[@]}"
}
layer e2e e2e

# --- the gallery in a real browser: headless Chromium over CDP (puppeteer-core) -------
browser() {
  bash tests/browser/setup.sh
  counted node --test --test-reporter=spec --test-concurrency=1 --test-timeout=300000 tests/browser/*.test.mjs
}
layer browser browser

# --- real MCP clients: Python mcp 2.3.0, MCP Inspector 2.12.0 CLI, conformance 0.1.16 ----
clients() {
  bash tests/clients/setup.sh
  counted node --test --test-reporter=spec --test-concurrency=1 tests/clients/*.test.mjs
}
layer clients clients


current=""
