#!/usr/bin/env bash
# Vets and tests the Go client: `bash clients/go/test.sh` from anywhere. The live tests start
# the repository's test server (.venv/bin/python -m tests.live_stack), so the Python
# environment must be set up first (`make setup`). Dependencies come only from go.mod/go.sum:
# a go.mod that needs changing fails the run instead of being rewritten.
#
# The module's lowest Go (go.mod's go directive, 1.22) is checked too: the code is vetted and
# the unit tests run with the Go $GO_MIN_TOOLCHAIN toolchain, which the go command fetches
# through the Go module proxy (golang.org/toolchain) once. GO_MIN_TOOLCHAIN=none skips that.
set -euo pipefail
cd "$(dirname "$0")"
command -v go >/dev/null || { echo "go not found on PATH (Go >= 1.22 is needed)" >&2; exit 1; }
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=readonly"
GO_MIN_TOOLCHAIN="${GO_MIN_TOOLCHAIN:-go1.22.12}"
GOTOOLCHAIN=local go vet ./...
# Each live test starts its own server (python + the emulator); at most two at a time, so a busy
# machine (2 cores shared) still brings each up well within livestack's 60 s.
GOTOOLCHAIN=local go test ./... -count=1 -timeout 8m -p 1 -parallel 2 "$@"
if [[ "$GO_MIN_TOOLCHAIN" != none ]]; then
  echo "--- with $GO_MIN_TOOLCHAIN (the go directive's line): vet and unit tests"
  GOTOOLCHAIN="$GO_MIN_TOOLCHAIN" go version
  GOTOOLCHAIN="$GO_MIN_TOOLCHAIN" go vet ./...
  GOTOOLCHAIN="$GO_MIN_TOOLCHAIN" go test ./platformclient -count=1 -run 'Test(Watch|Backoff|Execute|Each|Error|New|FeedPolicy|ExplainFailure)' \
    -skip 'TestWatchRunSurvivesServerRestart|TestExecuteGreetAndWatchToSuccess|TestExecuteWithoutRequiredParameter'
fi
