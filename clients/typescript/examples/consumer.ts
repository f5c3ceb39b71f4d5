// A tour of every helper of the TypeScript client, as an ESM service outside this repository
// uses it: scripts/test-consumers.sh installs the package from its `npm pack` tarball into a
// project of its own, type-checks this file with tsc (strict) and runs it against a live server.
import {
  connect,
  explainFailure,
  FailureCause,
  followChanges,
  reason,
  execute,
  listPipelines,
  listRuns,
  missingParameters,
  Reason,
  RunStatus,
  streamLogs,
  watchRun,
  type PipelineRun,
} from "@polysync/platform-client";
import { randomUUID } from "node:crypto";

// Plaintext for the local demo. In production: { tls: { ca, cert, key }, tokenSource: async () => token }.
const client = connect(process.env.POLYSYNC_BATCH_ADDRESS ?? "127.0.0.1:50051");
const signal = AbortSignal.timeout(120_000);

// 1. Every pipeline, page by page.
let pipelines = 0;
for await (const p of listPipelines(client, { pageSize: 2 }, { signal })) {
  pipelines++;
  console.log(`pipeline ${p.name}:${p.revision} required=${p.requiredParameters.join(",")}`);
}
console.log(`ok list: ${pipelines} pipelines`);

// 2. A refused submit: greet needs its `name` parameter.
try {
  await client.executePipeline({ pipeline: "greet" });
  throw new Error("greet without name was accepted");
} catch (err) {
  if (reason(err) !== Reason.MISSING_PARAMETERS) throw err;
  console.log(`ok refused: missing ${missingParameters(err).join(",")}`);
}

// 3. One request_id, two submits: one run.
const request = { pipeline: "greet", requestId: randomUUID(), parameters: { name: "Ada" } };
const first = await client.executePipeline(request);
const again = await client.executePipeline(request);
if (!again.deduplicated || again.run?.runId !== first.run?.runId) throw new Error("the resubmit was not deduplicated");
console.log(`ok deduplicated: ${again.run!.runId}`);

// 4. Watch it to the end; each event says whether its state may be stale.
let last: PipelineRun | undefined;
for await (const { run, heartbeat, staleSince } of watchRun(client, first.run!.runId, { signal })) {
  console.log(`event ${run.nativeStatus} heartbeat=${heartbeat} stale_since=${staleSince?.toISOString() ?? "none"}`);
  last = run;
}
console.log(`ok watched: ${RunStatus[last!.status]}`);

// 5. Cancel a long run; the watch ends CANCELLED.
const long = await client.executePipeline({ pipeline: "hello", parameters: { duration_seconds: "60" } });
await client.cancelPipelineRun({ runId: long.run!.runId, reason: "no longer needed" });
for await (const event of watchRun(client, long.run!.runId, { signal })) last = event.run;
console.log(`ok cancelled: ${RunStatus[last!.status]} ${last!.statusReason}`);

// 6. Submit and wait: a request_id is generated, retries are safe, the terminal run comes back.
const run = await execute(client, { pipeline: "greet", parameters: { name: "Bo" } }, { signal });
console.log(`ok executed: ${RunStatus[run.status]} exit code ${run.exitCode}`);

// 6b. A run that fails (the demo plays out-of-memory): why, in words: its cause, each attempt, the advice.
const failed = await execute(client, { pipeline: "hello", parameters: { failure: "oom" } }, { signal });
console.log(`ok failed: ${FailureCause[failed.failureCause]} after ${failed.attempts} attempt(s)`);
process.stdout.write(explainFailure(failed));

// 7. Its log, followed to the end.
for await (const line of streamLogs(client, { runId: run.runId, follow: true, startFromHead: true }, { signal })) {
  console.log(`log: ${line.message}`);
}

// 8. Every run of the queue, page by page.
let runs = 0;
for await (const _ of listRuns(client, { pageSize: 2 }, { signal })) runs++;
console.log(`ok paged: ${runs} runs`);

// 9. Every run's changes (the §12 feed): a snapshot of the runs in flight, then each change; store
// an event's cursor once handled, and resume from it after a restart of your own.
let cursor = "";
for await (const event of followChanges(client, { signal })) {
  cursor = event.cursor;
  if (event.kind === "snapshot_complete") break;
}
const next = await client.executePipeline({ pipeline: "greet", parameters: { name: "Ed" } });
for await (const event of followChanges(client, { cursor, signal })) {
  if (event.kind !== "change") continue; // heartbeats move the cursor too
  console.log(`change ${event.run!.runId} v${event.version} ${event.run!.nativeStatus} cursor=${event.cursor}`);
  if (event.run!.runId === next.run!.runId && event.run!.terminal) break;
}
console.log("ok feed: resumed from a cursor, followed a run to its end");
