#!/usr/bin/env bash
# Run the worker locally, fully offline:
#
#   bash scripts/dev.sh                 # http://localhost:8787
#   PORT=9000 bash scripts/dev.sh       # another port
#   bash scripts/dev.sh --log-level debug   # extra args go to `wrangler dev`
#
# Installs what is missing (setup.sh), builds the Wasm (build.sh), creates .dev.vars
# from .dev.vars.example if missing, applies the D1 migrations to the local database,
# then runs `wrangler dev --local` under the Node 22 shipped in node_modules.
# D1, R2 and Queues are simulated locally (state in .wrangler/state); images come
# from the offline preview backend (IMAGE_BACKEND=preview in .dev.vars), so the
# Workers AI binding is never called and no Cloudflare login is needed. Thumbnails
# come from wrangler's local Images binding, which runs the npm package sharp.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '[dev] %s\n' "$*"; }

PORT="${PORT:-8787}"
DB_NAME="mcp-image-generator-db"

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  log "ERROR: something is already listening on 127.0.0.1:$PORT; stop it or use PORT=<other> bash scripts/dev.sh"
  exit 1
fi

bash scripts/setup.sh
# shellcheck source=/dev/null
. target/.toolchain.env   # Node 22 first on PATH, MCP_SETUP_DONE=1, *_BIN for worker-build

bash scripts/build.sh

if [ ! -f .dev.vars ]; then
  cp .dev.vars.example .dev.vars
  log "created .dev.vars from .dev.vars.example"
fi
token="$(sed -n 's/^AUTH_TOKEN=//p' .dev.vars | tail -n 1 | tr -d "\"'")"
backend="$(sed -n 's/^IMAGE_BACKEND=//p' .dev.vars | tail -n 1 | tr -d "\"'")"
if [ "$backend" != "preview" ]; then
  log "WARNING: .dev.vars sets IMAGE_BACKEND=${backend:-unset (wrangler.toml default: workers-ai)}; the AI binding does not run locally. Set IMAGE_BACKEND=preview."
fi

# wrangler runs [images] locally with sharp (a devDependency); without it jobs still
# complete, only without thumbnails, and the worker logs why.
if node -e 'require("sharp")' >/dev/null 2>&1; then
  thumbnails="Cloudflare Images binding, run locally with sharp: 256 px WebP"
else
  thumbnails="OFF: the npm package sharp does not load (run npm install); jobs complete without"
  log "WARNING: the npm package sharp does not load; images will have no thumbnails"
fi

if compgen -G 'migrations/*.sql' >/dev/null; then
  log "applying D1 migrations locally (wrangler d1 migrations apply $DB_NAME --local)"
  wrangler d1 migrations apply "$DB_NAME" --local
else
  log "no migrations/*.sql: skipping D1 migrations"
fi

cat <<EOF
[dev] ------------------------------------------------------------------
[dev] MCP image generator (local, offline)
[dev]   URL:      http://localhost:$PORT/   (MCP endpoint: http://localhost:$PORT/mcp)
[dev]   Token:    AUTH_TOKEN in $ROOT/.dev.vars${token:+ (currently: $token)}
[dev]             send it as: Authorization: Bearer <AUTH_TOKEN>
[dev]   Images:   offline preview backend (IMAGE_BACKEND=preview): a PNG drawn from
[dev]             the prompt, not a model; Workers AI is never called.
[dev]   Thumbnails: $thumbnails
[dev]   State:    D1/R2/Queues simulated in $ROOT/.wrangler/state
[dev]   Stop:     Ctrl-C
[dev] ------------------------------------------------------------------
EOF

# wrangler runs [build] (scripts/build.sh) again on start and on changes under src/;
# with nothing changed that call is a no-op (see build.sh).
exec wrangler dev --local --port "$PORT" "$@"
