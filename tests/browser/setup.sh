#!/usr/bin/env bash
# Makes sure the browser tests have a Chromium: Debian's `chromium` package (plus a font, so
# screenshots show text). puppeteer-core (npm) drives it and never downloads a browser itself.
#
#   bash tests/browser/setup.sh      # idempotent; installs with apt-get only when missing
#
# CHROMIUM_BIN=/path/to/chrome skips the install and uses that binary instead.
set -euo pipefail
log() { printf '[browser-setup] %s\n' "$*"; }
die() { printf '[browser-setup] ERROR: %s\n' "$*" >&2; exit 1; }

if [ -n "${CHROMIUM_BIN:-}" ]; then
  [ -x "$CHROMIUM_BIN" ] || die "CHROMIUM_BIN=$CHROMIUM_BIN is not an executable"
  log "using CHROMIUM_BIN=$CHROMIUM_BIN"
  exit 0
fi
if command -v chromium >/dev/null 2>&1; then
  # Debian's wrapper script prints a harmless shell warning on stderr; keep the version only.
  log "chromium: present ($(chromium --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo"
  else
    die "chromium is not installed, and installing it needs root. Run: sudo apt-get install -y chromium fonts-dejavu-core (or set CHROMIUM_BIN to a Chromium or Chrome binary)"
  fi
fi
command -v apt-get >/dev/null 2>&1 \
  || die "chromium is not installed and there is no apt-get: install Chromium and set CHROMIUM_BIN to it"

log "chromium: missing, installing Debian's chromium (apt-get, ~1-2 min)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
command -v chromium >/dev/null 2>&1 || die "apt-get finished but chromium is still not on PATH"
log "chromium: installed ($(chromium --version 2>/dev/null || echo 'version unknown'))"
