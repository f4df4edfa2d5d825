#!/usr/bin/env bash
# Builds the dashboard (web/ -> web/dist) with npm ci + Vite; skips when dist is newer than every
# source. Everything comes from the npm registry through the lockfile; no CDN at run time.
set -euo pipefail
cd "$(dirname "$0")/../web"
if [ -f dist/index.html ] && [ -z "$(find src index.html package.json package-lock.json vite.config.ts -newer dist/index.html 2>/dev/null)" ]; then
  echo "web: dist is up to date"
  exit 0
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run build
