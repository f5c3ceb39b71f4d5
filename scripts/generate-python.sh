#!/usr/bin/env bash
# Generates the Python stubs of proto/ into $1 (default: the committed location). Every tool is
# pinned, so the output is reproducible and scripts/check-generated.sh can diff it:
# - messages (_pb2.py): grpcio-tools 1.85.1's protoc (uv.lock), protobuf gencode 7.35.1;
# - typed stubs (_pb2.pyi, _pb2_grpc.pyi): mypy-protobuf 5.1.0 (uv.lock), so the service stub's
#   methods are typed (grpc.UnaryUnaryMultiCallable[Request, Response], sync and grpc.aio);
# - service stubs (_pb2_grpc.py): the grpc plugin of grpcio-tools $GRPC_STUB_TOOLS_VERSION, run
#   with the pinned uv from PyPI. The plugin has no option for this: code from grpcio-tools 1.63
#   on compares the installed grpcio with the generator's version (a warning through 1.65, a
#   RuntimeError from 1.66, e.g. "depends on grpcio>=1.85.1") and passes _registered_method,
#   which older grpcio lacks. 1.62.3's code does neither (it only forgoes the registered-method
#   fast path), so the client works with any grpcio from 1.62.3 on (the floor in
#   clients/python/pyproject.toml, tested by tests/clients/consumer/python.sh with
#   --resolution lowest).
set -euo pipefail
cd "$(dirname "$0")/.."
GRPC_STUB_TOOLS_VERSION=1.62.3
out="${1:-clients/python/src}"
protos=$(find proto -name '*.proto' | LC_ALL=C sort)
mkdir -p "$out"
rm -rf "$out/polysync"
# shellcheck disable=SC2086  # proto paths contain no spaces
.venv/bin/python -m grpc_tools.protoc -I proto \
  --plugin=protoc-gen-mypy=.venv/bin/protoc-gen-mypy \
  --plugin=protoc-gen-mypy_grpc=.venv/bin/protoc-gen-mypy_grpc \
  --python_out="$out" --mypy_out="$out" --mypy_grpc_out="$out" $protos \
  2> >(grep -v '^Writing mypy to' >&2)  # mypy-protobuf names each file it writes
# shellcheck disable=SC2086
.tools/bin/uvx --quiet --python .venv/bin/python --from "grpcio-tools==$GRPC_STUB_TOOLS_VERSION" \
  python -m grpc_tools.protoc -I proto --grpc_python_out="$out" $protos
# PEP 561: the stubs above are for type checkers of installed copies too (polysync is a namespace
# package, so the marker sits in the package that holds them).
touch "$out/polysync/platform/v1/py.typed"
