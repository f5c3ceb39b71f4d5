#!/usr/bin/env bash
# Checks the C# client as far as this machine allows. Works from any directory.
# THE C# CODE IS NOT COMPILED HERE (no .NET SDK on this machine): without one this checks that
# the protos generate C# (messages, namespace Polysync.Platform.V1, every generated name the
# helpers and the Quickstart use), that every hand-written .cs file PARSES as C# (tree-sitter's
# C# grammar: syntax only, no types or overloads), that the reconnect policy's numbers are the
# documented ones, that the feed helper and ExplainFailure follow clients/feed-policy.json and
# clients/explain-failure.json rule by rule in their source (NOT by running them), that Reasons.cs matches the server's catalogue, and that the project files are
# well-formed XML pointing at the protos; with `dotnet` on PATH it also builds the client and the
# Quickstart.
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
  # Every generated message type and member that the helpers (PlatformClient.cs, WatchState.cs,
  # FeedState.cs, Runs.cs) and examples/Quickstart/Quickstart.cs use. (The client stub, PlatformService.
  # PlatformServiceClient, comes from grpc_csharp_plugin, which Debian does not ship.)
  for name in 'class ExecutePipelineRequest ' 'class WatchPipelineRunRequest ' \
    'class WatchPipelineRunResponse ' 'class WatchPipelineRunsRequest ' \
    'class WatchPipelineRunsResponse ' 'class StreamPipelineRunLogsRequest ' 'class LogEvent ' \
    'class ListPipelinesRequest ' 'class ListPipelineRunsRequest ' 'class PipelineRun ' \
    'public string Pipeline {' 'MapField<string, string> Parameters {' 'public string RunId {' \
    'RepeatedField<string> RunIds {' 'public string NativeStatus {' 'RunStatus Status {' \
    'public string Message {' 'PipelineRun Run {' 'Succeeded = 2' 'public bool Heartbeat {' \
    'Timestamp StaleSince {' 'public bool HasExitCode {' 'public int ExitCode {' \
    'public string StatusReason {' 'public bool Terminal {' 'ArrayJobStatus Array {' \
    'MapField<string, int> StatusCounts {' 'public int Size {' 'public string RequestId {' \
    'public string PageToken {' 'public string NextPageToken {' 'public string Platform {' \
    'RepeatedField<global::Polysync.Platform.V1.LogEvent> Events {' \
    'RepeatedField<global::Polysync.Platform.V1.Pipeline> Pipelines {' \
    'RepeatedField<global::Polysync.Platform.V1.PipelineRun> Runs {' \
    'public ExecutePipelineRequest Clone()' 'public ListPipelinesRequest Clone()' \
    'class WatchRunChangesRequest ' 'class WatchRunChangesResponse ' 'class RunChange ' \
    'RepeatedField<global::Polysync.Platform.V1.RunChange> Changes {' 'public long Version {' \
    'public bool SnapshotComplete {' 'public string Cursor {' 'public bool Snapshot {' \
    'Timestamp Time {' 'Failed = 3' 'Cancelled = 7' 'FailureCause FailureCause {' \
    'RepeatedField<global::Polysync.Platform.V1.RunAttempt> AttemptDetails {' \
    'public string ContainerReason {' 'public int Attempts {' 'RepeatedField<string> Warnings {' \
    'class BatchGetPipelineRunsRequest ' 'class BatchGetPipelineRunsResponse ' 'RepeatedField<string> MissingRunIds {'; do
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
# `dotnet pack`-ready: id, version (the repository's VERSION), description, readme packed.
version = open(os.path.join(repo, "VERSION")).read().strip()
for prop, want in [("PackageId", "Polysync.Platform.Client"), ("Version", version), ("PackageReadmeFile", "README.md")]:
    if client.findtext(f"PropertyGroup/{prop}") != want:
        print(f"  {prop}: {client.findtext(f'PropertyGroup/{prop}')!r}, want {want!r}"); ok = False
if not client.findtext("PropertyGroup/Description"):
    print("  no Description"); ok = False
if not any(n.get("Include") == "README.md" and n.get("Pack") == "true" for n in client.iter("None")):
    print("  README.md is not packed"); ok = False
refs = {r.get("Include"): r.get("Version") for r in client.iter("PackageReference")}
for package in ["Google.Protobuf", "Grpc.Net.Client", "Grpc.Tools", "Google.Api.CommonProtos"]:
    if not refs.get(package) or "*" in refs[package]:
        print(f"  {package}: not referenced with a pinned version"); ok = False
sys.exit(0 if ok else 1)
PY
}

every_cs_file_parses() {
  # tree-sitter's C# grammar, pinned, from PyPI: a real parser (syntax errors are ERROR or MISSING
  # nodes), not a compiler.
  "$repo/.tools/bin/uv" run --quiet --no-project --python python3 \
    --with tree-sitter==0.26.1 --with tree-sitter-c-sharp==0.23.5 python - "$here" <<'PY'
import pathlib, sys
import tree_sitter, tree_sitter_c_sharp
parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_c_sharp.language()))
files = sorted(p for p in pathlib.Path(sys.argv[1]).rglob("*.cs") if not {"bin", "obj", ".generated"} & set(p.parts))
bad = 0
for path in files:
    tree = parser.parse(path.read_bytes())
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            print(f"  {path.name}:{node.start_point[0] + 1}: syntax error near {node.text[:40]!r}")
            bad += 1
            break
        stack.extend(node.children)
print(f"  parsed {len(files)} files: {', '.join(p.name for p in files)}")
sys.exit(1 if bad or len(files) < 6 else 0)
PY
}

policy_is_the_documented_one() {
  grep -qF 'new(TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(15), 0.2, 10);' "$here/ReconnectPolicy.cs" \
    && grep -qF 'Math.Pow(2, Math.Max(0, attempt - 1))' "$here/ReconnectPolicy.cs" \
    && grep -qF '(1 - Jitter + 2 * Jitter * uniform())' "$here/ReconnectPolicy.cs"
}

reasons_match_the_catalogue() {
  "$repo/.venv/bin/python" - "$here/Reasons.cs" "$repo/server" <<'PY'
import re, sys
sys.path.insert(0, sys.argv[2])
from polysync_batch.domain.reasons import CATALOGUE
text = open(sys.argv[1]).read()
found = [value for name, value in re.findall(r'public const string (\w+) = "([^"]*)";', text)][1:]
expected = [info.reason.value for info in CATALOGUE]
if found != expected:
    print(f"  Reasons.cs {found} != catalogue {expected}")
    sys.exit(1)
PY
}

connect_options_used_are_declared() {
  # Every ConnectOptions member the README and the Quickstart set (inside `new ConnectOptions { … }`)
  # is a property PlatformClient.cs declares, and Connect uses each security option.
  python3 - "$here" <<'PY'
import pathlib, re, sys
here = pathlib.Path(sys.argv[1])
source = (here / "PlatformClient.cs").read_text()
block = source[source.index("public sealed class ConnectOptions"):source.index("public sealed class PlatformClient")]
declared = set(re.findall(r"public [\w<>?,\[\] ]+ (\w+) \{ get; init; \}", block))
ok = True
for path in [here / "README.md", here / "examples/Quickstart/Quickstart.cs"]:
    text = path.read_text()
    uses = [set(re.findall(r"^\s*(\w+) =", body, re.M)) for body in re.findall(r"new ConnectOptions\s*\{(.*?)\n\s*\}", text, re.S)]
    if not uses:
        print(f"  {path.name}: no new ConnectOptions {{ … }}"); ok = False
    for used in uses:
        if used - declared:
            print(f"  {path.name}: sets {sorted(used - declared)}, not declared in ConnectOptions"); ok = False
connect = source[source.index("public static PlatformClient Connect("):]
for option in ["TrustedCaPem", "ClientCertificatePem", "ClientKeyPem", "BearerToken", "TokenSource"]:
    if option not in declared or f"options.{option}" not in connect:
        print(f"  ConnectOptions.{option}: not declared, or not used by Connect"); ok = False
for needed in ['"authorization"', '"Bearer "', "CallCredentials.FromInterceptor", "ClientCertificates", "CustomTrustStore",
               "ImportFromPem", "CustomTrustStore.AddRange"]:  # every CA of a PEM bundle, not only the first
    if needed not in connect:
        print(f"  Connect does not use {needed}"); ok = False
sys.exit(0 if ok else 1)
PY
}

policy_matches_the_table() {
  # clients/watch-policy.json, the one watch policy every client replays: without a compiler the
  # C# helpers cannot run its scenarios, so this checks the numbers, the codes and the state key.
  python3 - "$here" "$repo/clients/watch-policy.json" <<'PY'
import json, pathlib, re, sys
here, table = pathlib.Path(sys.argv[1]), json.loads(pathlib.Path(sys.argv[2]).read_text())
policy = table["policy"]
fmt = lambda x: f"{x:g}"
source = (here / "ReconnectPolicy.cs").read_text()
state = (here / "WatchState.cs").read_text()
client = (here / "PlatformClient.cs").read_text()
camel = lambda code: "".join(part.capitalize() for part in code.split("_"))
ok = True
def need(cond, what):
    global ok
    if not cond:
        print(f"  {what}"); ok = False
need(f"new(TimeSpan.FromSeconds({fmt(policy['initial_backoff_seconds'])}), TimeSpan.FromSeconds({fmt(policy['max_backoff_seconds'])}), {fmt(policy['jitter'])}, {policy['max_reconnects']});" in source,
     "ReconnectPolicy.Default differs from the table's numbers")
need(f"Math.Pow({fmt(policy['multiplier'])}, " in source, "the backoff multiplier differs from the table's")
on_error = state[state.index("public TimeSpan? OnError"):]
on_error = on_error[:on_error.index("return retried")]
cases = set(re.findall(r"case StatusCode\.(\w+):", on_error))
retried = {camel(r["code"]) for r in policy["reconnect_on"] if r["code"] not in ("OK", "IDLE")}
need(cases == retried, f"OnError reconnects on {sorted(cases)}, the table on {sorted(retried)}")
for r in policy["reconnect_on"]:
    if "reason" in r:
        need(f"Reasons.{camel(r['reason'])}" in on_error, f"OnError does not check reason {r['reason']}")
for t in policy["terminating_examples"]:
    if camel(t["code"]) in cases:
        need(t["reason"] and f"Reasons.{camel(t['reason'])}" not in on_error, f"{t['code']} {t['reason']} would be retried")
key = state[state.index("public static string StateKey"):state.index("public RunEvent? OnMessage")]
fields = {"native_status": "run.NativeStatus", "status_reason": "run.StatusReason", "exit_code": "run.ExitCode",
          "array.status_counts": "StatusCounts", "stale_since": "staleSince"}
for name in policy["state_key"]:
    need(fields[name] in key, f"StateKey lacks {name}")
need(".Size" not in key, "StateKey includes the array size, the table's state key does not")
execute = client[client.index("public async Task<PipelineRun> ExecuteAsync"):]
execute = execute[:execute.index("var run = response.Run;")]
need(set(re.findall(r"StatusCode\.(\w+)", execute)) == {camel(c) for c in policy["execute_retry_on"]},
     "ExecuteAsync retries other codes than the table's execute_retry_on")
need("public TimeSpan? IdleTimeout { get; init; }" in client and "state.OnIdle()" in client, "no idle timeout")
need("StatusCode.DeadlineExceeded" in client[client.index("private async IAsyncEnumerable<RunEvent> WatchAsync"):], "no deadline across reconnects")
sys.exit(0 if ok else 1)
PY
}

feed_policy_matches_the_table() {
  # clients/feed-policy.json, the one feed-helper policy every client replays: without a compiler
  # the C# FollowChangesAsync cannot run its scenarios, so this checks, in the source, each rule
  # of its "policy" and every event kind its scenarios expect.
  python3 - "$here" "$repo/clients/feed-policy.json" <<'PY'
import json, pathlib, re, sys
here, table = pathlib.Path(sys.argv[1]), json.loads(pathlib.Path(sys.argv[2]).read_text())
policy = table["policy"]
state = (here / "FeedState.cs").read_text()
client = (here / "PlatformClient.cs").read_text()
reasons = (here / "Reasons.cs").read_text()
camel = lambda code: "".join(part.capitalize() for part in code.lower().split("_"))
follow = client[client.index("public async IAsyncEnumerable<FeedEvent> FollowChangesAsync"):]
follow = follow[:follow.index("/// <summary>")]
ok = True
def need(cond, what):
    global ok
    if not cond:
        print(f"  {what}"); ok = False
# relist_on: the code and reason, and a reason constant with that value
code, reason = policy["relist_on"]["code"], policy["relist_on"]["reason"]
expired = state[state.index("public static bool IsCursorExpired"):]
expired = expired[:expired.index(";")]
need(f"StatusCode.{camel(code)}" in expired and f"Reasons.{camel(reason)}" in expired,
     f"IsCursorExpired does not check {code} / {reason}")
need(f'public const string {camel(reason)} = "{reason}";' in reasons, f"Reasons.cs has no {reason}")
# relist: at once (no Sleep, no onReconnect), forgets versions and cursor, a second one throws
relist = state[state.index("public FeedEvent? OnCursorExpired"):]
relist = relist[:relist.index("public TimeSpan? OnError")]
need("_versions = new" in relist and 'Cursor = "";' in relist and "FeedEventKind.Relist" in relist,
     "OnCursorExpired does not forget the versions and the cursor, or hands out no Relist event")
need("if (_relisted)" in relist and "return null;" in relist, "a second CURSOR_EXPIRED does not end the helper")
need(re.search(r"relisted = true;\s*yield return relist!;\s*break;", follow) is not None
     and re.search(r"if \(relisted\)\s*\{\s*continue;", follow) is not None,
     "FollowChangesAsync does not reopen at once after a relist")
# reconnect: the watch helpers' own decisions (their codes, backoff and budget are checked above)
need("_watch.OnError(error)" in state and "_watch.Received()" in state, "FeedState does not reuse WatchState's reconnects")
need("state.OnCleanEnd()" in follow, "a clean end does not reconnect")
need("state.OnIdle()" in follow and "_idleTimeout" in follow, "no idle timeout")
need("StatusCode.DeadlineExceeded" in follow, "no deadline across reconnects")
need("onReconnect?.Invoke(state.Reconnects" in follow, "no on-reconnect callback")
# resume: the last cursor; a snapshot only without one
need("Cursor = Cursor, Snapshot = Cursor.Length == 0" in state, "the request does not resume from the last cursor")
need("state.Request(platform, tags)" in follow, "FollowChangesAsync does not ask FeedState for the request")
# duplicates: version not above the last one handed out for the run
need(re.search(r"_versions\.TryGetValue\(runId, out var last\) && change\.Version <= last\)\s*\{\s*continue;", state) is not None,
     "a change whose version is not above the last one is not dropped")
# event_cursor: the cursor before the message on all but the last event, which carries the message's
on_message = state[state.index("public List<FeedEvent> OnMessage"):state.index("public static bool IsCursorExpired")]
need("var before = Cursor;" in on_message and on_message.count(", before)") == 3
     and "events[^1] = events[^1] with { Cursor = Cursor };" in on_message,
     "events do not carry the cursor before the message, the last one the message's")
# the event kinds the scenarios expect, in their order of handling, and the stale flag
kinds = set(re.findall(r"enum FeedEventKind\s*\{(.*?)\}", state, re.S)[0].split())
kinds = {k.strip(",") for k in kinds if re.fullmatch(r"\w+,?", k)}
expected = {camel(e.split()[0]) for s in table["scenarios"] for e in s["expect"]["events"]}
need(expected <= kinds, f"FeedEventKind lacks {sorted(expected - kinds)}")
need(on_message.index("message.Changes") < on_message.index("message.SnapshotComplete") < on_message.index("message.Heartbeat"),
     "a message's events are not changes, then the snapshot's end, then the heartbeat")
need("public bool Stale => StaleSince is not null;" in state and "At(message.StaleSince)" in on_message, "no stale flag")
def between(text, start, end):
    if start not in text or end not in text[text.index(start):]:
        return ""
    text = text[text.index(start):]
    return text[:text.index(end)]
# snapshot: a stream without a cursor asks for a snapshot and forgets the versions seen; none of the
# snapshot's cursors is taken before its snapshot_complete message, so its events before that one
# carry "" and a stream that ends in the middle of it is followed by a new snapshot
need("snapshot_complete" in policy.get("snapshot", "") and "snapshot_complete" in policy["event_cursor"], "the table's snapshot rule is not the one checked here")
request = between(state, "public WatchRunChangesRequest Request", "private static DateTimeOffset? At")
need("_snapshotting = request.Snapshot;" in request
     and re.search(r"if \(request\.Snapshot\)\s*\{\s*_versions = new", request) is not None,
     "a stream that asks for a snapshot does not forget the versions seen")
need("_reads.Clear();" in request and "_completing = null;" in request, "a new stream keeps the reads of the last one's snapshot")
finish = between(state, "private List<FeedEvent> Finish", "private void HandedOut")
need("var taken = !_snapshotting || message.SnapshotComplete;" in finish
     and re.search(r"if \(taken\)\s*\{\s*if \(message\.Cursor\.Length > 0\)[^{]*\{\s*Cursor = message\.Cursor;\s*\}\s*_snapshotting = false;", finish) is not None
     and "if (taken && events.Count > 0)" in finish,
     "a cursor from the middle of a snapshot is taken, or carried by an event")
need("Cursor = message.Cursor;" not in on_message.replace(finish, ""), "OnMessage takes the message's cursor outside Finish")
# resume: a message without a cursor keeps the last one (the regex above: taken only when not empty)
need("without a cursor" in policy["resume"] and "keeps the last cursor" in finish, "the table's empty-cursor rule is not the one checked here")
# in_flight: the runs handed out whose latest run is not terminal, in the order first handed out
need("terminal" in policy.get("in_flight", ""), "the table's in_flight rule is not the one checked here")
handed = between(state, "private void HandedOut", "/// <summary>")
track = between(state, "private void Track(string runId)", "/// <summary>")
need(re.search(r"if \(_inFlight\.TryAdd\(runId, _handedOut\)\)\s*\{\s*_handedOut\+\+;\s*\}", track) is not None,
     "Track does not number a run the first time it is in flight (and keep the place of one already in)")
need("run.Terminal" in handed and "_inFlight.Remove(runId);" in handed
     and re.search(r"else\s*\{\s*Track\(runId\);\s*\}", handed) is not None,
     "HandedOut does not keep the non-terminal runs in the order first handed out")
need(on_message.count("HandedOut(") >= 3, "the changes handed out and the runs read do not update the runs in flight")
# in_flight: the run ids the caller starts the helper with are in flight from the start, in the order
# given and before any the helper hands out (numbered first by Track, as HandedOut numbers the others)
rule = policy.get("in_flight", "")
need("caller may start the helper with run ids" in rule and "in the order given and before any the helper hands out" in rule,
     "the table's in_flight rule for the caller's start ids is not the one checked here")
ctor = between(state, "public FeedState(", "/// <summary>")
need("IEnumerable<string>? inFlight" in ctor
     and re.search(r"foreach \(var runId in inFlight \?\? Array\.Empty<string>\(\)\)\s*\{\s*"
                   r"if \(!string\.IsNullOrEmpty\(runId\)\)\s*\{\s*Track\(runId\);\s*\}\s*\}", ctor) is not None,
     "FeedState does not seed its runs in flight from the constructor's inFlight, in order, before any handed out")
need(re.search(r"IEnumerable<string>\? inFlight = null,\s*\[EnumeratorCancellation\] CancellationToken cancellationToken", follow) is not None
     and "new FeedState(cursor, inFlight, " in follow,
     "FollowChangesAsync takes no inFlight (just before its cancellation token) or does not pass it to FeedState")
# reread: at a snapshot's snapshot_complete, the in-flight runs it did not list, read with
# BatchGetPipelineRuns (at most N a call, in in-flight order), then a change of version 0 for each
# run answered and a 'gone' event for each missing id, before the snapshot's end event
limit = re.search(r"at most (\d+) run_ids", policy.get("reread", ""))
need(limit is not None and f"public const int BatchGetLimit = {limit.group(1)};" in state,
     "BatchGetLimit is not the table's run_ids a call")
need("_listed.Add(runId);" in on_message and "if (_snapshotting && message.SnapshotComplete && ScheduleReads())" in on_message,
     "the runs a snapshot lists are not noted, or its snapshot_complete message does not read the others")
schedule = between(state, "private bool ScheduleReads", "/// <summary>")
need("!_listed.Contains(run.Key)" in schedule and "OrderBy(run => run.Value)" in schedule
     and "GetRange(from, Math.Min(BatchGetLimit, unlisted.Count - from))" in schedule,
     "the reads are not the unlisted runs in flight, in in-flight order, BatchGetLimit a call")
on_read = between(state, "public List<FeedEvent> OnRead", "/// <summary>")
need("_versions[run.RunId] = 0;" in on_read and "new FeedEvent(FeedEventKind.Change, run, 0, null, stale, Cursor)" in on_read,
     "a run read is not handed out as a change of version 0 (recorded for the duplicate rule)")
need("new FeedEvent(FeedEventKind.Gone, new PipelineRun { RunId = runId }, 0, null, stale, Cursor)" in on_read
     and "_inFlight.Remove(runId);" in on_read
     and on_read.index("answer.Runs") < on_read.index("answer.MissingRunIds"),
     "a missing run is not a Gone event carrying only its run id, after the runs answered, out of the runs in flight")
complete = between(state, "public List<FeedEvent> Complete", "/// <summary>")
need("return Finish(message, Cursor, new List<FeedEvent>());" in complete, "Complete does not end the snapshot_complete message")
need(all(s in follow for s in ["state.OnMessage(message)", "state.NextRead()", "state.OnRead(answer)", "state.Complete()"])
     and follow.index("state.OnMessage(message)") < follow.index("state.OnRead(answer)") < follow.index("state.Complete()"),
     "FollowChangesAsync does not read the runs between the message's changes and the snapshot's end")
need("Stub.BatchGetPipelineRunsAsync(" in follow and "new BatchGetPipelineRunsRequest { Platform = platform, RunIds = { ids } }" in follow
     and "headers, deadline, stream.Token)" in follow[follow.index("Stub.BatchGetPipelineRunsAsync("):],
     "BatchGetPipelineRuns is not called on the feed's platform with the stream's headers, deadline and token")
need("readFailure = e;" in follow and "Exception? failure = readFailure;" in follow
     and "if (readFailure is null && state.Completing)" in follow,
     "a failed read is not handled as the stream's error (and the snapshot completed anyway)")
sys.exit(0 if ok else 1)
PY
}

explain_failure_matches_the_table() {
  # clients/explain-failure.json: without a compiler Runs.ExplainFailure cannot run its cases, so
  # this checks that every fixed piece of the texts is a literal of Runs.cs, and its rules.
  python3 - "$here" "$repo/clients/explain-failure.json" <<'PY'
import json, pathlib, re, sys
here, table = pathlib.Path(sys.argv[1]), json.loads(pathlib.Path(sys.argv[2]).read_text())
source = (here / "Runs.cs").read_text()
method = source[source.index("public static string ExplainFailure"):]
ok = True
def need(cond, what):
    global ok
    if not cond:
        print(f"  {what}"); ok = False
texts = "".join(case["text"] for case in table["cases"])
for piece in ["failed: ", " after ", " attempt", " attempts", "  attempt ", "no exit code", "exit code ",
              " (log stream ", "  advice: "]:
    need(piece.strip() in texts, f"{piece!r} is in no case of the table (a stale check)")
    need(f'"{piece}' in method or f'{piece}"' in method or f'"{piece}"' in method, f"Runs.cs does not write {piece!r}")
need("RunStatus.Failed" in method and "FailureCause.Cancelled" in method and 'return "";' in method,
     "empty text for a run that did not fail or was cancelled: not so")
need('CausePrefix = "FAILURE_CAUSE_"' in source, "the cause is not written without its FAILURE_CAUSE_ prefix")
need("OrderBy(a => a.Index)" in method and "attempt.Index + 1" in method, "attempts not in index order from 1")
need("attempt.ContainerReason.Length > 0 ? attempt.ContainerReason : attempt.StatusReason" in method,
     "an attempt's reason is not its container reason, else its status reason")
need(method.count(".Append('\\n')") == 3, "lines do not end with a newline")
sys.exit(0 if ok else 1)
PY
}

check "every proto generates C# (protoc $(protoc --version | cut -d' ' -f2))" every_proto_generated
check "namespace Polysync.Platform.V1" namespace_is_polysync_platform_v1
check "the names the helpers and Quickstart.cs use are generated" quickstart_names_exist
check "every hand-written .cs file parses as C# (tree-sitter; NOT compiled)" every_cs_file_parses
check "ReconnectPolicy.cs has the documented numbers" policy_is_the_documented_one
check "the policy's numbers, codes and state key match clients/watch-policy.json" policy_matches_the_table
check "FeedState/FollowChangesAsync follow clients/feed-policy.json (source checks; NOT run)" \
  feed_policy_matches_the_table
check "Runs.ExplainFailure writes clients/explain-failure.json's text (source checks; NOT run)" \
  explain_failure_matches_the_table
check "Reasons.cs matches server/polysync_batch/domain/reasons.py" reasons_match_the_catalogue
check "csproj files are well-formed and point at proto/" projects_are_well_formed
check "ConnectOptions set in README and Quickstart exist; Connect carries CA, client cert, token" \
  connect_options_used_are_declared
if command -v dotnet >/dev/null; then
  check "dotnet build (client and Quickstart)" \
    dotnet build "$here/examples/Quickstart/Quickstart.csproj" --nologo -v quiet
else
  echo "skip dotnet build: no .NET SDK on this machine"
fi
echo "csharp: $passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
