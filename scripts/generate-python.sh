#!/usr/bin/env bash
# Generates the Python stubs (messages, typed .pyi, gRPC) of proto/ into $1 (default: the
# committed location). grpcio-tools is pinned in uv.lock, so the output is reproducible.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-clients/python/src}"
mkdir -p "$out"
rm -rf "$out/polysync"
.venv/bin/python -m grpc_tools.protoc -I proto \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
  $(find proto -name '*.proto' | sort)
