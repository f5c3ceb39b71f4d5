#!/usr/bin/env bash
# Generates the TypeScript client's code (protobuf-es messages and service descriptors) of proto/
# and of the vendored google/rpc/error_details.proto into $1 (default: the committed location,
# clients/typescript/src/gen). buf, protoc-gen-es and @bufbuild/protobuf are pinned in
# clients/typescript/package-lock.json and run locally, so the output is reproducible:
#   tmp=$(mktemp -d) && scripts/generate-typescript.sh "$tmp" && diff -r "$tmp" clients/typescript/src/gen
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
pkg="$repo/clients/typescript"
out="${1:-$pkg/src/gen}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# Install the pinned tools from the lock file unless they are already there at those versions.
if [[ ! -x "$pkg/node_modules/.bin/buf" || ! -x "$pkg/node_modules/.bin/protoc-gen-es" \
      || "$pkg/package-lock.json" -nt "$pkg/node_modules/.package-lock.json" ]]; then
  (cd "$pkg" && npm ci --no-audit --no-fund --loglevel=error)
fi

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cd "$pkg"
node_modules/.bin/buf generate "$repo/proto" --template buf.gen.yaml -o "$stage"
node_modules/.bin/buf generate proto-vendor --template buf.gen.yaml -o "$stage"

# Replace the output's contents only (the directory itself may be a caller's temp dir).
find "$out" -mindepth 1 -delete
cp -R "$stage/src/gen/." "$out/"
