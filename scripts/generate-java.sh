#!/usr/bin/env bash
# Generates the Java client code of proto/ (protobuf-java messages and grpc-java stubs) into $1
# (default: the committed location, clients/java/src/generated/java).
#
# Tools, each pinned, so the output is byte-identical and a drift check can diff a temporary
# output against the committed one:
# - protoc: com.google.protobuf:protoc at <protobuf.version> of clients/java/pom.xml (the same
#   version as the protobuf-java runtime), fetched from Maven Central with Maven itself into the
#   git-ignored clients/java/.tools/.
# - the grpc-java stub generator: Debian's protobuf-compiler-grpc-java-plugin (installed with
#   apt-get when missing; needs root). Maven Central does not serve the executables of
#   io.grpc:protoc-gen-grpc-java here, so Debian's build is the one that can be had; its stubs
#   use only API that grpc-java 1.85 still has.
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
grpc_java_plugin_deb=protobuf-compiler-grpc-java-plugin
grpc_java_plugin_deb_version=1.41.3+ds-1
plugin=/usr/bin/grpc_java_plugin

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) classifier=linux-x86_64 ;;
  Linux-aarch64 | Linux-arm64) classifier=linux-aarch_64 ;;
  Darwin-x86_64) classifier=osx-x86_64 ;;
  Darwin-arm64) classifier=osx-aarch_64 ;;
  *) echo "generate-java.sh: no protoc build for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac

protoc="$tools/protoc-$protobuf_version-$classifier.exe"
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
installed="$(dpkg-query -W -f='${Version}' "$grpc_java_plugin_deb" 2>/dev/null || true)"
if [[ "$installed" != "$grpc_java_plugin_deb_version" ]]; then
  [[ -z "$installed" ]] || echo "generate-java.sh: $grpc_java_plugin_deb $installed installed;" \
    "installing the pinned $grpc_java_plugin_deb_version" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --allow-downgrades \
    "$grpc_java_plugin_deb=$grpc_java_plugin_deb_version" >/dev/null
fi
# The protoc binary from Maven Central carries no well-known types (google/protobuf/*.proto);
# protobuf-java of the same version ships them.
if [[ ! -f "$include/google/protobuf/timestamp.proto" ]]; then
  mvn_get "com.google.protobuf:protobuf-java:$protobuf_version:jar" "$include" unpack \
    -Dmdep.unpack.includes='google/protobuf/**/*.proto'
fi

mkdir -p "$out"
rm -rf "$out/polysync"
# shellcheck disable=SC2046  # proto paths contain no spaces
"$protoc" -I proto -I "$include" \
  --plugin=protoc-gen-grpc-java="$plugin" \
  --java_out="$out" --grpc-java_out="$out" \
  $(find proto -name '*.proto' | LC_ALL=C sort)
