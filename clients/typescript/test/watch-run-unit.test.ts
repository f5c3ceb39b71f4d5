// The helpers' policy against scripted fake clients: no server, runs in milliseconds.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  backoffDelayMs,
  Code,
  ConnectError,
  DEFAULT_BACKOFF,
  DEFAULT_MAX_RECONNECTS,
  ErrorInfoSchema,
  execute,
  listPipelines,
  listRuns,
  PipelineRunSchema,
  PipelineSchema,
  Reason,
  REASONS,
  RunStatus,
  watchRun,
  watchRuns,
  WatchPipelineRunResponseSchema,
  type ExecutePipelineRequest,
  type PlatformClient,
  type WatchEvent,
  type WatchPipelineRunResponse,
} from "@polysync/platform-client";
import { repoRoot } from "./live-stack.js";

type Step = { native: string; run?: string; reason?: string; terminal?: boolean; heartbeat?: boolean; stale?: boolean } | ConnectError;

const STALE = new Date("2026-01-02T03:04:05Z");

function response(step: Exclude<Step, ConnectError>, sequence: bigint): WatchPipelineRunResponse {
  const run = create(PipelineRunSchema, {
    runId: step.run ?? "job-1",
    nativeStatus: step.native,
    statusReason: step.reason ?? "",
    status: step.terminal ? RunStatus.SUCCEEDED : RunStatus.RUNNING,
    terminal: step.terminal ?? false,
  });
  return create(WatchPipelineRunResponseSchema, {
    run,
    sequence,
    heartbeat: step.heartbeat ?? false,
    ...(step.stale ? { staleSince: timestampFromDate(STALE) } : {}),
  });
}

/** A client whose n-th watch call plays script[n]: messages, then maybe an error; then silence ends it OK. */
function fakeClient(script: Step[][]) {
  const fake = {
    calls: 0,
    watchedIds: [] as string[][],
    play(): AsyncIterable<WatchPipelineRunResponse> {
      const steps = script[fake.calls++];
      return (async function* () {
        if (steps === undefined) throw new ConnectError("no more scripted streams", Code.Unavailable);
        let sequence = 0n;
        for (const step of steps) {
          if (step instanceof ConnectError) throw step;
          yield response(step, ++sequence);
        }
      })();
    },
    watchPipelineRun(): AsyncIterable<WatchPipelineRunResponse> {
      return fake.play();
    },
    watchPipelineRuns(request: { runIds: string[] }): AsyncIterable<WatchPipelineRunResponse> {
      fake.watchedIds.push([...request.runIds]);
      return fake.play();
    },
  };
  return fake;
}

function describe(event: WatchEvent): string {
  let s = event.run.runId === "job-1" ? event.run.nativeStatus : `${event.run.runId}:${event.run.nativeStatus}`;
  if (event.heartbeat) s += " hb";
  if (event.staleSince !== undefined) s += " stale";
  return s;
}

async function collect(iterable: AsyncIterable<WatchEvent>): Promise<string[]> {
  const seen: string[] = [];
  for await (const event of iterable) seen.push(describe(event));
  return seen;
}

const unavailable = () => new ConnectError("server shutting down", Code.Unavailable);
const withReason = (code: Code, reason: string) =>
  new ConnectError(reason.toLowerCase(), code, undefined, [{ desc: ErrorInfoSchema, value: { reason, domain: "polysync.platform" } }]);
const fast = { backoff: { initialMs: 1, maxMs: 1 } };
const asClient = (c: unknown) => c as Pick<PlatformClient, "watchPipelineRun" | "watchPipelineRuns">;

test("resumes after UNAVAILABLE, yields heartbeats and skips the repeated current state", async () => {
  const client = fakeClient([
    [{ native: "RUNNABLE" }, { native: "RUNNABLE", heartbeat: true }, { native: "RUNNING" }, unavailable()],
    [unavailable()],
    [{ native: "RUNNING" }, { native: "RUNNING" }, { native: "SUCCEEDED", terminal: true }, { native: "extra" }],
  ]);
  const attempts: number[] = [];
  const seen = await collect(watchRun(asClient(client), "job-1", { ...fast, onReconnect: (e) => attempts.push(e.attempt) }));
  assert.deepEqual(seen, ["RUNNABLE", "RUNNABLE hb", "RUNNING", "SUCCEEDED"]);
  assert.deepEqual(attempts, [1, 2]);
  assert.equal(client.calls, 3);
});

test("events carry staleSince as a Date, and a changed statusReason is a new state", async () => {
  const client = fakeClient([[
    { native: "RUNNING" },
    { native: "RUNNING", heartbeat: true, stale: true },
    { native: "RUNNING", reason: "now with a reason", stale: true },
    { native: "SUCCEEDED", terminal: true },
  ]]);
  const events: WatchEvent[] = [];
  for await (const event of watchRun(asClient(client), "job-1", fast)) events.push(event);
  assert.deepEqual(events.map(describe), ["RUNNING", "RUNNING hb stale", "RUNNING stale", "SUCCEEDED"]);
  assert.equal(events[1]!.staleSince?.toISOString(), STALE.toISOString());
  assert.equal(events[0]!.staleSince, undefined);
});

test("a stream that ends OK before the terminal state is resumed, within the budget", async () => {
  const client = fakeClient([[{ native: "RUNNING" }], [{ native: "SUCCEEDED", terminal: true }]]);
  assert.deepEqual(await collect(watchRun(asClient(client), "job-1", fast)), ["RUNNING", "SUCCEEDED"]);
  const empty = fakeClient(Array.from({ length: 15 }, () => []));
  await assert.rejects(collect(watchRun(asClient(empty), "job-1", fast)), { code: Code.Unavailable });
  assert.equal(empty.calls, 11, "1 stream + 10 reconnects, then the error");
});

test("reconnects on RESOURCE_EXHAUSTED only with reason AWS_THROTTLED", async () => {
  const throttled = fakeClient([[{ native: "RUNNING" }, withReason(Code.ResourceExhausted, Reason.AWS_THROTTLED)], [{ native: "SUCCEEDED", terminal: true }]]);
  assert.deepEqual(await collect(watchRun(asClient(throttled), "job-1", fast)), ["RUNNING", "SUCCEEDED"]);
  const tooMany = fakeClient([[withReason(Code.ResourceExhausted, Reason.TOO_MANY_STREAMS)], [{ native: "SUCCEEDED", terminal: true }]]);
  await assert.rejects(collect(watchRun(asClient(tooMany), "job-1", fast)), { code: Code.ResourceExhausted });
  assert.equal(tooMany.calls, 1);
});

test("other errors are thrown without retrying", async () => {
  for (const code of [Code.NotFound, Code.InvalidArgument, Code.Unauthenticated, Code.Internal]) {
    const client = fakeClient([[{ native: "RUNNING" }, new ConnectError("no", code)], [{ native: "SUCCEEDED", terminal: true }]]);
    await assert.rejects(collect(watchRun(asClient(client), "job-1", fast)), { code });
    assert.equal(client.calls, 1, Code[code]);
  }
});

test("a connection torn down under the stream (ABORTED/CANCELED from connect-node) is UNAVAILABLE and resumed", async () => {
  const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
  const torn = [
    new ConnectError("read ECONNRESET", Code.Aborted, undefined, undefined, reset),
    new ConnectError("http/2 stream closed with error code CANCEL (0x8)", Code.Canceled),
  ];
  for (const error of torn) {
    const reconnects: string[] = [];
    const client = fakeClient([[{ native: "RUNNING" }, error], [{ native: "SUCCEEDED", terminal: true }]]);
    const options = { ...fast, onReconnect: (e: { error: ConnectError }) => reconnects.push(Code[e.error.code]) };
    assert.deepEqual(await collect(watchRun(asClient(client), "job-1", options)), ["RUNNING", "SUCCEEDED"]);
    assert.deepEqual(reconnects, ["Unavailable"], error.message);
  }
  // ABORTED or CANCELED that a server sent as its status is not a torn connection: thrown.
  for (const code of [Code.Aborted, Code.Canceled]) {
    const client = fakeClient([[new ConnectError("conflict", code)], [{ native: "SUCCEEDED", terminal: true }]]);
    await assert.rejects(collect(watchRun(asClient(client), "job-1", fast)), { code });
    assert.equal(client.calls, 1);
  }
});

test("with a token source, UNAUTHENTICATED is retried once in a row", async () => {
  const unauth = () => withReason(Code.Unauthenticated, Reason.CALLER_UNAUTHENTICATED);
  const once = fakeClient([[{ native: "RUNNING" }, unauth()], [{ native: "SUCCEEDED", terminal: true }]]);
  assert.deepEqual(await collect(watchRun(asClient(once), "job-1", { ...fast, freshTokenRetry: true })), ["RUNNING", "SUCCEEDED"]);
  const twice = fakeClient([[unauth()], [unauth()], [{ native: "SUCCEEDED", terminal: true }]]);
  await assert.rejects(collect(watchRun(asClient(twice), "job-1", { ...fast, freshTokenRetry: true })), { code: Code.Unauthenticated });
  assert.equal(twice.calls, 2);
});

test("gives up after 10 consecutive reconnects with the last error; a message resets the count", async () => {
  const client = fakeClient(Array.from({ length: 13 }, () => [unavailable()]));
  await assert.rejects(collect(watchRun(asClient(client), "job-1", fast)), { code: Code.Unavailable });
  assert.equal(client.calls, 11);
  const script: Step[][] = [];
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 9; i++) script.push([unavailable()]);
    script.push([{ native: "RUNNING" }, unavailable()]);
  }
  script.push([{ native: "SUCCEEDED", terminal: true }]);
  assert.deepEqual(await collect(watchRun(asClient(fakeClient(script)), "job-1", fast)), ["RUNNING", "SUCCEEDED"]);
});

test("the backoff is the policy: min(15 s, 0.5 s × 2^(n−1)) × [0.8, 1.2]", () => {
  assert.equal(DEFAULT_MAX_RECONNECTS, 10);
  assert.deepEqual({ ...DEFAULT_BACKOFF }, { initialMs: 500, maxMs: 15_000, multiplier: 2, jitter: 0.2 });
  const expected: Record<number, number> = { 1: 500, 2: 1000, 3: 2000, 5: 8000, 6: 15_000, 40: 15_000 };
  for (const [attempt, ms] of Object.entries(expected)) {
    assert.equal(backoffDelayMs(Number(attempt), {}, () => 0), ms * 0.8);
    assert.equal(backoffDelayMs(Number(attempt), {}, () => 0.5), ms);
    assert.ok(Math.abs(backoffDelayMs(Number(attempt), {}, () => 1) - ms * 1.2) < 1e-6);
  }
});

test("watchRuns resumes with the runs not yet terminal", async () => {
  const client = fakeClient([
    [{ run: "a", native: "RUNNING" }, { run: "b", native: "RUNNING" }, { run: "a", native: "SUCCEEDED", terminal: true }, unavailable()],
    [{ run: "b", native: "RUNNING" }, { run: "b", native: "FAILED", terminal: true }],
  ]);
  const seen = await collect(watchRuns(asClient(client), ["a", "b"], fast));
  assert.deepEqual(seen, ["a:RUNNING", "b:RUNNING", "a:SUCCEEDED", "b:FAILED"]);
  assert.deepEqual(client.watchedIds, [["a", "b"], ["b"]]);
});

test("aborting while backing off ends the watch at once with Code.Canceled", async () => {
  const controller = new AbortController();
  const client = fakeClient([[{ native: "RUNNING" }, unavailable()], [unavailable()]]);
  const started = Date.now();
  await assert.rejects(
    collect(watchRun(asClient(client), "job-1", {
      backoff: { initialMs: 60_000 },
      signal: controller.signal,
      onReconnect: () => setTimeout(() => controller.abort(), 20),
    })),
    { code: Code.Canceled },
  );
  assert.ok(Date.now() - started < 5_000, "the backoff delay was not interrupted");
  assert.equal(client.calls, 1);
});

test("breaking out of the loop cancels the stream", async () => {
  let cancelled = false;
  const client = {
    watchPipelineRun(_request: unknown, options?: { signal?: AbortSignal }): AsyncIterable<WatchPipelineRunResponse> {
      options?.signal?.addEventListener("abort", () => (cancelled = true));
      return (async function* () {
        yield response({ native: "RUNNING" }, 1n);
        await new Promise(() => {});
      })();
    },
  };
  for await (const event of watchRun(asClient(client), "job-1")) {
    assert.equal(event.run.nativeStatus, "RUNNING");
    break;
  }
  assert.ok(cancelled);
});

test("execute retries UNAVAILABLE and DEADLINE_EXCEEDED with one generated request_id, then waits", async () => {
  const requests: ExecutePipelineRequest[] = [];
  const errors = [unavailable(), new ConnectError("slow", Code.DeadlineExceeded)];
  const watch = fakeClient([[{ native: "RUNNING" }, { native: "SUCCEEDED", terminal: true }]]);
  const client = {
    ...watch,
    watchPipelineRun: watch.watchPipelineRun,
    async executePipeline(request: ExecutePipelineRequest) {
      requests.push(request);
      const error = errors.shift();
      if (error) throw error;
      return { run: create(PipelineRunSchema, { runId: "job-1", nativeStatus: "SUBMITTED" }), deduplicated: false };
    },
  };
  let submitted = "";
  const run = await execute(client as unknown as Pick<PlatformClient, "executePipeline" | "watchPipelineRun">, { pipeline: "greet" }, {
    ...fast,
    onSubmitted: (r) => (submitted = r.run?.runId ?? ""),
  });
  assert.equal(run.nativeStatus, "SUCCEEDED");
  assert.equal(submitted, "job-1");
  assert.equal(requests.length, 3);
  assert.match(requests[0]!.requestId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(requests.every((r) => r.requestId === requests[0]!.requestId), "every attempt uses the same request_id");
});

test("execute keeps the caller's request_id and throws other errors at once", async () => {
  const requests: ExecutePipelineRequest[] = [];
  const client = {
    async executePipeline(request: ExecutePipelineRequest) {
      requests.push(request);
      throw requests.length === 1 ? unavailable() : withReason(Code.InvalidArgument, Reason.MISSING_PARAMETERS);
    },
  };
  await assert.rejects(
    execute(client as unknown as Pick<PlatformClient, "executePipeline" | "watchPipelineRun">, { pipeline: "greet", requestId: "mine" }, fast),
    { code: Code.InvalidArgument },
  );
  assert.deepEqual(requests.map((r) => r.requestId), ["mine", "mine"]);
});

test("listRuns and listPipelines follow next_page_token", async () => {
  const tokens: string[] = [];
  const pages = [
    { runs: [create(PipelineRunSchema, { runId: "r1" }), create(PipelineRunSchema, { runId: "r2" })], nextPageToken: "t1" },
    { runs: [create(PipelineRunSchema, { runId: "r3" })], nextPageToken: "" },
  ];
  const client = {
    async listPipelineRuns(request: { pageToken: string; pageSize: number }) {
      assert.equal(request.pageSize, 2);
      tokens.push(request.pageToken);
      return pages[tokens.length - 1]!;
    },
    async listPipelines(request: { pageToken: string }) {
      tokens.push(request.pageToken);
      return { pipelines: [create(PipelineSchema, { name: `p${tokens.length}` })], nextPageToken: tokens.length < 5 ? `t${tokens.length}` : "" };
    },
  };
  const ids: string[] = [];
  for await (const run of listRuns(client as unknown as Pick<PlatformClient, "listPipelineRuns">, { pageSize: 2 })) ids.push(run.runId);
  assert.deepEqual(ids, ["r1", "r2", "r3"]);
  assert.deepEqual(tokens, ["", "t1"]);
  const names: string[] = [];
  for await (const p of listPipelines(client as unknown as Pick<PlatformClient, "listPipelines">)) names.push(p.name);
  assert.deepEqual(names, ["p3", "p4", "p5"]);
  assert.deepEqual(tokens.slice(2), ["", "t3", "t4"]);
});

test("the reason constants are the server's catalogue", () => {
  const root = repoRoot();
  const catalogue = JSON.parse(execFileSync(join(root, ".venv", "bin", "python"), ["-m", "polysync_batch.domain.reasons"], { cwd: root, encoding: "utf8" })) as Array<{ reason: string }>;
  assert.deepEqual([...REASONS], catalogue.map((entry) => entry.reason));
  assert.equal(Reason.RUN_NOT_FOUND, "RUN_NOT_FOUND");
});
