#!/usr/bin/env bash
# Build the worker: Rust -> Wasm (worker-build --release) -> build/index.js + build/*.wasm, and
# the main module src/entry.mjs -> build/entry.mjs (wrangler.toml's `main`), which hands JSON-RPC
# POSTs to Rust in one call (writing them with src/handover.mjs -> build/handover.mjs) and
# everything else to worker-build's index.js.
#
#   bash scripts/build.sh            # build (skipped if inputs are unchanged since the last build)
#   FORCE_BUILD=1 bash scripts/build.sh
#
# This is also wrangler's [build] command (wrangler.toml), so `wrangler dev` and
# `wrangler deploy` call it. It never calls wrangler itself (no recursion). When the
# caller has already run setup.sh (MCP_SETUP_DONE=1, as dev.sh/test.sh export), setup
# is not repeated; and when nothing that goes into the Wasm changed since the last
# successful build, the build is skipped, so wrangler's own call right after
# dev.sh's build costs well under a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '[build] %s\n' "$*"; }

if [ "${MCP_SETUP_DONE:-}" != 1 ] || [ ! -f target/.toolchain.env ]; then
  bash scripts/setup.sh
fi
# shellcheck source=/dev/null
. target/.toolchain.env

for v in WASM_BINDGEN_BIN WASM_OPT_BIN ESBUILD_BIN; do
  # worker-build silently falls back to downloading from GitHub if the path is bad.
  [ -x "${!v}" ] || { log "ERROR: $v=${!v} is not executable; run scripts/setup.sh"; exit 1; }
done

# Fingerprint of everything that can end up in the Wasm/JS output: tracked and
# untracked-but-not-ignored files, minus tests and docs, plus tool versions and flags.
fingerprint() {
  {
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
      git ls-files -z --cached --others --exclude-standard
    else
      find . \( -path ./target -o -path ./build -o -path ./node_modules -o -path ./.wrangler \
        -o -path ./.git \) -prune -o -type f -printf '%P\0'
    fi | { grep -zvE -e '^(tests|\.github|\.ci)/' -e '^scripts/(dev|test|setup)\.sh$' -e '\.md$' -e '^bench/' -e '^src/(entry|handover)\.mjs$' || true; } \
       | sort -z | xargs -0 -r sha256sum 2>/dev/null || true
    worker-build --version
    "$WASM_BINDGEN_BIN" --version
    printf 'RUSTFLAGS=%s\n' "${RUSTFLAGS:-}"
  } | sha256sum | cut -d' ' -f1
}

# The main module and the module it imports, copied as they are (not part of the fingerprint:
# copying them is their whole build step).
copy_main_modules() {
  cp src/entry.mjs build/entry.mjs
  cp src/handover.mjs build/handover.mjs
}

STAMP="target/.build-fingerprint"
fp="$(fingerprint)"
if [ "${FORCE_BUILD:-}" != 1 ] && [ -f build/index.js ] && compgen -G 'build/*.wasm' >/dev/null \
   && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$fp" ]; then
  log "inputs unchanged since the last build: reusing build/ (FORCE_BUILD=1 to rebuild)"
  copy_main_modules
  exit 0
fi

log "worker-build --release (WASM_BINDGEN_BIN=$WASM_BINDGEN_BIN, WASM_OPT_BIN=$WASM_OPT_BIN)"
start=$(date +%s)
rm -f "$STAMP"
worker-build --release
[ -f build/index.js ] || { log "ERROR: build/index.js was not produced"; exit 1; }
# The main module calls the Rust functions worker-build attaches to its entry class's prototype;
# a worker-build that stops doing so must fail the build, not the first request.
for fn in serve_inbox entry_inbox entry_memory request_body_max_bytes warm_up entry_headers; do
  grep -q "prototype\.$fn=" build/index.js \
    || { log "ERROR: build/index.js does not put $fn on its entry class (worker-build changed?)"; exit 1; }
done
copy_main_modules
printf '%s' "$fp" > "$STAMP"

log "done in $(( $(date +%s) - start ))s"
for f in build/*.wasm; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  log "$(printf '%s: %d bytes (%d KiB) raw, %d bytes (%d KiB) gzip -9' "$f" "$raw" $((raw / 1024)) "$gz" $((gz / 1024)))"
done
