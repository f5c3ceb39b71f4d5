// The contract's RPCs against the live server: submit, watch, cancel, and rich errors.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import {
  Code,
  ConnectError,
  createPlatformClient,
  ERROR_DOMAIN,
  errorInfo,
  errorReason,
  fieldViolations,
  execute,
  listAllPipelines,
  listAllRuns,
  missingParameters,
  RunStatus,
  streamLogs,
  watchRuns,
  type ExecutePipelineResponse,
  type PipelineRun,
  type PlatformClient,
  type WatchPipelineRunResponse,
} from "@polysync/platform-client";
import { LiveStack } from "./live-stack.js";

let stack: LiveStack;
let client: PlatformClient;

before(async () => {
  stack = await LiveStack.start();
  client = createPlatformClient(stack.address);
});

after(async () => {
  await stack?.stop();
});

async function submit(pipeline: string, parameters: Record<string, string>): Promise<PipelineRun> {
  const { run } = await client.executePipeline({ pipeline, parameters });
  assert.ok(run, "ExecutePipeline returned no run");
  assert.match(run.runId, /\S/);
  return run;
}

async function watchToEnd(runId: string, onEach?: (m: WatchPipelineRunResponse) => Promise<void>) {
  const messages: WatchPipelineRunResponse[] = [];
  for await (const message of client.watchPipelineRun({ runId }, { timeoutMs: 30_000 })) {
    messages.push(message);
    await onEach?.(message);
  }
  return messages;
}

test("executePipeline greet, then watchPipelineRun until it succeeds", { timeout: 40_000 }, async () => {
  const run = await submit("greet", { name: "Ada" });
  assert.equal(run.pipeline, "greet");
  assert.equal(run.status, RunStatus.RUNNING);
  assert.equal(run.parameters["name"], "Ada");

  const messages = await watchToEnd(run.runId);

  assert.ok(messages.length >= 2, `expected a transition, got ${messages.length} message(s)`);
  assert.deepEqual(
    messages.map((m) => m.sequence),
    messages.map((_, i) => BigInt(i + 1)),
  );
  for (const m of messages) assert.equal(m.run?.runId, run.runId);
  const states = messages.map((m) => m.run!);
  assert.ok(states.slice(0, -1).every((s) => !s.terminal), "only the last message may be terminal");
  const final = states.at(-1)!;
  assert.equal(final.terminal, true);
  assert.equal(final.status, RunStatus.SUCCEEDED);
  assert.equal(final.nativeStatus, "SUCCEEDED");
  assert.equal(final.exitCode, 0);
});

test("cancelPipelineRun on a running run ends the watch CANCELLED", { timeout: 40_000 }, async () => {
  const run = await submit("hello", { duration_seconds: "60" });
  let cancelled = false;
  const messages = await watchToEnd(run.runId, async (m) => {
    if (!cancelled && m.run?.nativeStatus === "RUNNING") {
      cancelled = true;
      const response = await client.cancelPipelineRun({ runId: run.runId });
      assert.equal(response.run?.runId, run.runId);
      assert.equal(response.alreadyTerminal, false);
    }
  });
  assert.ok(cancelled, "the run never showed RUNNING");
  const final = messages.at(-1)!.run!;
  assert.equal(final.status, RunStatus.CANCELLED);
  assert.equal(final.terminal, true);
  assert.equal(final.statusReason, "Cancelled by Polysync");
});

test("getPipelineRun of an unknown id is NOT_FOUND with reason RUN_NOT_FOUND", async () => {
  const err = await client.getPipelineRun({ runId: randomUUID() }).then(
    () => assert.fail("getPipelineRun of an unknown id succeeded"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConnectError, `not a ConnectError: ${err}`);
  assert.equal(err.code, Code.NotFound);
  assert.equal(errorReason(err), "RUN_NOT_FOUND");
  assert.equal(errorInfo(err)?.domain, ERROR_DOMAIN);
  assert.equal(ERROR_DOMAIN, "polysync.platform");
});

test("executePipeline greet without its required name is INVALID_ARGUMENT", async () => {
  const err = await client.executePipeline({ pipeline: "greet" }).then(
    () => assert.fail("executePipeline without name succeeded"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConnectError, `not a ConnectError: ${err}`);
  assert.equal(err.code, Code.InvalidArgument);
  assert.equal(errorReason(err), "MISSING_PARAMETERS");
  assert.deepEqual(
    fieldViolations(err).map((v) => v.field),
    ["parameters[name]"],
  );
});

test("createPlatformClient accepts a bare host:port", async () => {
  const bare = createPlatformClient(`127.0.0.1:${stack.port}`);
  const { pipeline } = await bare.getPipeline({ pipeline: "hello" });
  assert.equal(pipeline?.name, "hello");
  assert.equal(pipeline?.revision, 2);
});

test("execute waits for the terminal run and deduplicates by request_id", { timeout: 40_000 }, async () => {
  let first: ExecutePipelineResponse | undefined;
  const run = await execute(client, { pipeline: "greet", parameters: { name: "Ada" } }, { onSubmitted: (r) => (first = r) });
  assert.equal(run.terminal, true);
  assert.equal(run.status, RunStatus.SUCCEEDED);
  assert.equal(first?.deduplicated, false);
  assert.equal(first?.run?.runId, run.runId);

  const requestId = `ts-live-${randomUUID()}`;
  const once = await execute(client, { pipeline: "greet", requestId, parameters: { name: "Bo" } });
  let again: ExecutePipelineResponse | undefined;
  const twice = await execute(client, { pipeline: "greet", requestId, parameters: { name: "Bo" } }, { onSubmitted: (r) => (again = r) });
  assert.equal(again?.deduplicated, true);
  assert.equal(twice.runId, once.runId);
});

test("execute of greet without name throws, and missingParameters names it", async () => {
  const err = await execute(client, { pipeline: "greet" }).then(() => assert.fail("succeeded"), (e: unknown) => e);
  assert.deepEqual(missingParameters(err), ["name"]);
});

test("watchRuns follows two runs to their ends", { timeout: 40_000 }, async () => {
  const a = await submit("greet", { name: "A" });
  const b = await submit("hello", { exit_code: "3" });
  const final = new Map<string, PipelineRun>();
  for await (const event of watchRuns(client, { runIds: [a.runId, b.runId] })) {
    assert.ok(event.staleSince === undefined || event.staleSince instanceof Date);
    final.set(event.run.runId, event.run);
  }
  assert.equal(final.get(a.runId)?.status, RunStatus.SUCCEEDED);
  assert.equal(final.get(b.runId)?.status, RunStatus.FAILED);
  assert.equal(final.get(b.runId)?.exitCode, 3);
});

test("streamLogs with follow reads the run's output", { timeout: 40_000 }, async () => {
  const run = await submit("greet", { name: "Logs" });
  const lines: string[] = [];
  for await (const event of streamLogs(client, { runId: run.runId, follow: true, startFromHead: true })) lines.push(event.message);
  assert.ok(lines.join("\n").includes("Logs"), lines.join("\n"));
});

test("listAllPipelines and listAllRuns page through everything", async () => {
  const names: string[] = [];
  for await (const p of listAllPipelines(client, { pageSize: 1 })) names.push(p.name);
  assert.ok(names.length >= 3 && names.includes("greet"), names.join(","));
  const ids = new Set<string>();
  for await (const r of listAllRuns(client, { pageSize: 2 })) {
    assert.ok(!ids.has(r.runId), `run ${r.runId} listed twice`);
    ids.add(r.runId);
  }
  assert.ok(ids.size >= 5, `paged through ${ids.size} runs`);
});
