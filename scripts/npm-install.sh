#!/usr/bin/env bash
# Installs the npm packages used by browser interop tests and benchmark anchors (npm ci, lockfile).
set -euo pipefail
cd "$(dirname "$0")/../tests/interop"
if [ -d node_modules/playwright-core ] && [ -d node_modules/yjs ] && [ -d node_modules/kubernetes-models ] &&
   [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
