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
  RunStatus,
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
