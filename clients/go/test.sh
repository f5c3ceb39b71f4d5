#!/usr/bin/env bash
# Vets and tests the Go client: `bash clients/go/test.sh` from anywhere. The live tests start
# the repository's test server (.venv/bin/python -m tests.live_stack), so the Python
# environment must be set up first (`make setup`). Dependencies come only from go.mod/go.sum:
# a go.mod that needs changing fails the run instead of being rewritten.
set -euo pipefail
cd "$(dirname "$0")"
command -v go >/dev/null || { echo "go not found on PATH (Go >= 1.22 is needed)" >&2; exit 1; }
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly"
export GOTOOLCHAIN=local
go vet ./...
go test ./... -count=1 -timeout 5m "$@"
