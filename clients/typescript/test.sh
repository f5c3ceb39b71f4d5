#!/usr/bin/env bash
# The TypeScript client's single test entry (the Makefile calls `bash clients/typescript/test.sh`):
# installs the pinned packages from package-lock.json, builds with tsc, then runs the node:test
# suites. The live tests start <repo>/.venv/bin/python -m tests.live_stack, so the Python
# environment must be set up first (`make setup`). Works from any directory.
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -x ../../.venv/bin/python ]]; then
  echo "clients/typescript/test.sh: ../../.venv/bin/python is missing; run 'make setup' first." >&2
  exit 1
fi
# The package has no install script (`npm pack` builds dist/ through `prepack`, so the tarball
# carries it): build dist/ (ESM and CommonJS) here, then the tests.
npm ci --no-audit --no-fund --loglevel=error
rm -rf build
npm run --silent build
node_modules/.bin/tsc -p tsconfig.test.json
node --test --test-timeout=120000 build/test/*.test.js
