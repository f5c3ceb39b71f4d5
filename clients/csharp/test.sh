#!/usr/bin/env bash
# Checks the C# client as far as this machine allows. Works from any directory.
# Without a .NET SDK it checks that the protos generate C# (messages, namespace
# Polysync.Platform.V1, the names the Quickstart uses) and that the project files are well-formed
# XML pointing at the protos; with `dotnet` on PATH it also builds the client and the Quickstart.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
passed=0
failed=0
check() { # NAME COMMAND...
  local name="$1"
  shift
  if "$@"; then
    echo "ok   $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    failed=$((failed + 1))
  fi
}

gen="$(mktemp -d)"
trap 'rm -rf "$gen"' EXIT
"$repo/scripts/generate-csharp.sh" "$gen"

every_proto_generated() {
  local proto name missing=0
  while read -r proto; do
    # protoc's C# file name: the proto's base name in PascalCase.
    name="$(basename "$proto" .proto | sed -E 's/(^|_)([a-z])/\U\2/g').cs"
    [[ -s "$gen/$name" ]] || { echo "  no $name for $proto"; missing=1; }
  done < <(find "$repo/proto" -name '*.proto')
  return "$missing"
}

namespace_is_polysync_platform_v1() {
  local file bad=0
  for file in "$gen"/*.cs; do
    grep -q '^namespace Polysync\.Platform\.V1 {' "$file" || { echo "  $file: namespace"; bad=1; }
  done
  return "$bad"
}

quickstart_names_exist() {
  local all="$gen/*.cs" name bad=0
  # Every generated type and member that examples/Quickstart/Quickstart.cs uses.
  for name in 'class ExecutePipelineRequest ' 'class WatchPipelineRunRequest ' \
    'class WatchPipelineRunResponse ' 'class PipelineRun ' 'public string Pipeline {' \
    'MapField<string, string> Parameters {' 'public string RunId {' \
    'public string NativeStatus {' 'RunStatus Status {' 'public string Message {' \
    'PipelineRun Run {' 'Succeeded = 2'; do
    # shellcheck disable=SC2086  # the glob is meant
    grep -qF -- "$name" $all || { echo "  not generated: $name"; bad=1; }
  done
  return "$bad"
}

projects_are_well_formed() {
  python3 - "$here" "$repo" <<'PY'
import glob, os, sys
import xml.etree.ElementTree as ET

here, repo = sys.argv[1], sys.argv[2]
ok = True
for path in [f"{here}/Polysync.Platform.Client.csproj", f"{here}/examples/Quickstart/Quickstart.csproj"]:
    root = ET.parse(path).getroot()  # raises on malformed XML
    if root.tag != "Project" or root.get("Sdk") != "Microsoft.NET.Sdk":
        print(f"  {path}: not an SDK-style project"); ok = False
    if root.findtext("PropertyGroup/TargetFramework") != "net8.0":
        print(f"  {path}: TargetFramework is not net8.0"); ok = False
    for ref in root.iter("ProjectReference"):
        if not os.path.isfile(os.path.join(os.path.dirname(path), ref.get("Include"))):
            print(f"  {path}: missing {ref.get('Include')}"); ok = False
client = ET.parse(f"{here}/Polysync.Platform.Client.csproj").getroot()
protobuf = client.find("ItemGroup/Protobuf")
root_dir = os.path.normpath(os.path.join(here, protobuf.get("ProtoRoot")))
if root_dir != os.path.join(repo, "proto") or protobuf.get("GrpcServices") != "Client":
    print("  Protobuf item: ProtoRoot must be the repo's proto/, GrpcServices Client"); ok = False
included = glob.glob(os.path.join(here, protobuf.get("Include")), recursive=True)
expected = glob.glob(f"{repo}/proto/**/*.proto", recursive=True)
if sorted(map(os.path.realpath, included)) != sorted(map(os.path.realpath, expected)):
    print(f"  Protobuf Include matches {len(included)} of {len(expected)} protos"); ok = False
refs = {r.get("Include"): r.get("Version") for r in client.iter("PackageReference")}
for package in ["Google.Protobuf", "Grpc.Net.Client", "Grpc.Tools", "Google.Api.CommonProtos"]:
    if not refs.get(package) or "*" in refs[package]:
        print(f"  {package}: not referenced with a pinned version"); ok = False
sys.exit(0 if ok else 1)
PY
}

check "every proto generates C# (protoc $(protoc --version | cut -d' ' -f2))" every_proto_generated
check "namespace Polysync.Platform.V1" namespace_is_polysync_platform_v1
check "the names Quickstart.cs uses are generated" quickstart_names_exist
check "csproj files are well-formed and point at proto/" projects_are_well_formed
if command -v dotnet >/dev/null; then
  check "dotnet build (client and Quickstart)" \
    dotnet build "$here/examples/Quickstart/Quickstart.csproj" --nologo -v quiet
else
  echo "skip dotnet build: no .NET SDK on this machine"
fi
echo "csharp: $passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
