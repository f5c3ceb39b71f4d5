#!/usr/bin/env bash
# Generates the Go stubs (messages and gRPC) of proto/ into $1/polysync/platform/v1 (default
# $1: clients/go, the committed location). The plugins are installed at the pinned versions
# below into clients/go/.bin and buf (pinned in package-lock.json) compiles the protos, so the
# output is reproducible; a drift check can generate into a temporary directory and diff.
set -euo pipefail
cd "$(dirname "$0")/.."

PROTOC_GEN_GO_VERSION=v1.36.6       # google.golang.org/protobuf; keep equal to clients/go/go.mod
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2   # google.golang.org/grpc/cmd/protoc-gen-go-grpc

out="${1:-clients/go}"
bin="$PWD/clients/go/.bin"
buf="$PWD/node_modules/.bin/buf"
[[ -x "$buf" ]] || { echo "buf not found at $buf: run 'npm ci' first" >&2; exit 1; }

# `go install pkg@version` ignores any go.mod and checks the downloads against the checksum
# database; it is a no-op (apart from a cache look-up) when the binary is up to date.
mkdir -p "$bin"
GOBIN="$bin" go install "google.golang.org/protobuf/cmd/protoc-gen-go@$PROTOC_GEN_GO_VERSION"
GOBIN="$bin" go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@$PROTOC_GEN_GO_GRPC_VERSION"

mkdir -p "$out"
rm -rf "$out/polysync"
PATH="$bin:$PATH" "$buf" generate --template clients/go/buf.gen.yaml --output "$out"
