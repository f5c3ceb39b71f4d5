#!/usr/bin/env bash
# Generates the Java client code of proto/ (protobuf-java messages and grpc-java stubs) into $1
# (default: the committed location, clients/java/src/generated/java).
#
# Tools, each pinned, so the output is byte-identical and a drift check can diff a temporary
# output against the committed one:
# - protoc: com.google.protobuf:protoc at <protobuf.version> of clients/java/pom.xml (the same
#   version as the protobuf-java runtime), fetched from Maven Central with Maven itself into the
#   git-ignored clients/java/.tools/.
# - the grpc-java stub generator: io.grpc:protoc-gen-grpc-java at <grpc.generator.version> of
#   the pom, also from Maven Central. The registry reachable here serves its executables up to
#   1.83.1 (not 1.84.x/1.85.x); stubs of 1.83 run on the grpc-java 1.85 runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
out="${1:-clients/java/src/generated/java}"
pom=clients/java/pom.xml
tools=clients/java/.tools

pom_property() {
  sed -n "s|.*<$1>\(.*\)</$1>.*|\1|p" "$pom" | head -n 1
}
protobuf_version="$(pom_property protobuf.version)"
[[ -n "$protobuf_version" ]] || {
  echo "generate-java.sh: cannot read <protobuf.version> from $pom" >&2
  exit 1
}
generator_version="$(pom_property grpc.generator.version)"
[[ -n "$generator_version" ]] || {
  echo "generate-java.sh: cannot read <grpc.generator.version> from $pom" >&2
  exit 1
}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) classifier=linux-x86_64 ;;
  Linux-aarch64 | Linux-arm64) classifier=linux-aarch_64 ;;
  Darwin-x86_64) classifier=osx-x86_64 ;;
  Darwin-arm64) classifier=osx-aarch_64 ;;
  *) echo "generate-java.sh: no protoc build for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

protoc="$tools/protoc-$protobuf_version-$classifier.exe"
plugin="$tools/protoc-gen-grpc-java-$generator_version-$classifier.exe"
include="$tools/include-$protobuf_version"

mvn_get() { # ARTIFACT OUTPUT_DIR GOAL [extra args]
  mvn -B -q -f "$pom" "org.apache.maven.plugins:maven-dependency-plugin:3.9.0:$3" \
    -Dartifact="$1" -DoutputDirectory="$repo/$2" "${@:4}"
}

mkdir -p "$tools"
if [[ ! -x "$protoc" ]]; then
  mvn_get "com.google.protobuf:protoc:$protobuf_version:exe:$classifier" "$tools" copy
  chmod +x "$protoc"
fi
if [[ ! -x "$plugin" ]]; then
  mvn_get "io.grpc:protoc-gen-grpc-java:$generator_version:exe:$classifier" "$tools" copy
  chmod +x "$plugin"
fi
# The protoc binary from Maven Central carries no well-known types (google/protobuf/*.proto);
# protobuf-java of the same version ships them.
if [[ ! -f "$include/google/protobuf/timestamp.proto" ]]; then
  mvn_get "com.google.protobuf:protobuf-java:$protobuf_version:jar" "$include" unpack \
    -Dmdep.unpack.includes='google/protobuf/**/*.proto'
fi

mkdir -p "$out"
rm -rf "$out/io/polysync/platform"
# shellcheck disable=SC2046  # proto paths contain no spaces
"$protoc" -I proto -I "$include" \
  --plugin=protoc-gen-grpc-java="$plugin" \
  --java_out="$out" --grpc-java_out="$out" \
  $(find proto -name '*.proto' | LC_ALL=C sort)
