#!/usr/bin/env bash
# Generates C# from proto/ into $1 (default: clients/csharp/.generated, git-ignored), the way the
# C# client's build does, to check the protos without a .NET SDK. The C# client itself is NOT
# generated from this: Grpc.Tools generates it at `dotnet build` and nothing is committed.
#
# Messages come from protoc's built-in C# generator (Debian's protobuf-compiler, installed with
# apt-get when missing; needs root). Debian ships no grpc_csharp_plugin; when one is on PATH or
# in $GRPC_CSHARP_PLUGIN (e.g. from Grpc.Tools' tools/linux_x64/), the client stubs are generated
# too.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-clients/csharp/.generated}"

if ! command -v protoc >/dev/null || [[ ! -f /usr/include/google/protobuf/timestamp.proto ]]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null
fi

plugin="${GRPC_CSHARP_PLUGIN:-$(command -v grpc_csharp_plugin || true)}"
grpc_args=()
if [[ -n "$plugin" ]]; then
  grpc_args=(--plugin=protoc-gen-grpc="$plugin" --grpc_out="$out" --grpc_opt=no_server)
fi

mkdir -p "$out"
rm -f "$out"/*.cs
# shellcheck disable=SC2046  # proto paths contain no spaces
protoc -I proto --csharp_out="$out" "${grpc_args[@]}" $(find proto -name '*.proto' | LC_ALL=C sort)
