// watchRun's retry rules against a scripted fake client: no server, runs in milliseconds.
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  PipelineRunSchema,
  RunStatus,
  watchRun,
  WatchPipelineRunResponseSchema,
  type PlatformClient,
  type WatchPipelineRunResponse,
} from "@polysync/platform-client";

type Step = { native: string; terminal?: boolean } | ConnectError;

/** A client whose n-th WatchPipelineRun call plays script[n]: states, then maybe an error. */
function fakeClient(script: Step[][]): Pick<PlatformClient, "watchPipelineRun"> & { calls: number } {
  const fake = {
    calls: 0,
    watchPipelineRun(): AsyncIterable<WatchPipelineRunResponse> {
      const steps = script[fake.calls++] ?? [];
      return (async function* () {
        let sequence = 0n;
        for (const step of steps) {
          if (step instanceof ConnectError) throw step;
          const run = create(PipelineRunSchema, {
            runId: "job-1",
            nativeStatus: step.native,
            status: step.terminal ? RunStatus.SUCCEEDED : RunStatus.RUNNING,
            terminal: step.terminal ?? false,
          });
          yield create(WatchPipelineRunResponseSchema, { run, sequence: ++sequence });
        }
      })();
    },
  };
  return fake;
}

async function collect(iterable: AsyncIterable<{ nativeStatus: string }>): Promise<string[]> {
  const seen: string[] = [];
  for await (const run of iterable) seen.push(run.nativeStatus);
  return seen;
}

const unavailable = () => new ConnectError("server shutting down", Code.Unavailable);
const fast = { initialBackoffMs: 1, maxBackoffMs: 2 };

test("resumes after UNAVAILABLE and skips the repeated current state", async () => {
  const client = fakeClient([
    [{ native: "RUNNABLE" }, { native: "RUNNING" }, unavailable()],
    [{ native: "RUNNING" }, { native: "SUCCEEDED", terminal: true }],
  ]);
  let reconnects = 0;
  const seen = await collect(watchRun(client, { runId: "job-1" }, { ...fast, onReconnect: () => reconnects++ }));
  assert.deepEqual(seen, ["RUNNABLE", "RUNNING", "SUCCEEDED"]);
  assert.equal(reconnects, 1);
  assert.equal(client.calls, 2);
});

test("a stream that ends OK before the terminal state is resumed", async () => {
  const client = fakeClient([[{ native: "RUNNING" }], [{ native: "SUCCEEDED", terminal: true }]]);
  assert.deepEqual(await collect(watchRun(client, { runId: "job-1" }, fast)), ["RUNNING", "SUCCEEDED"]);
});

test("other errors are thrown without retrying", async () => {
  const client = fakeClient([[new ConnectError("no such run", Code.NotFound)]]);
  await assert.rejects(collect(watchRun(client, { runId: "job-1" }, fast)), { code: Code.NotFound });
  assert.equal(client.calls, 1);
});

test("gives up after maxRetries consecutive failures with the last error", async () => {
  const client = fakeClient([[unavailable()], [unavailable()], [unavailable()], [unavailable()]]);
  const delays: number[] = [];
  await assert.rejects(
    collect(watchRun(client, { runId: "job-1" }, { ...fast, maxRetries: 2, onReconnect: (e) => delays.push(e.attempt) })),
    { code: Code.Unavailable },
  );
  assert.equal(client.calls, 3);
  assert.deepEqual(delays, [1, 2]);
});

test("backoff grows exponentially within the jitter and is capped", async () => {
  const client = fakeClient([[unavailable()], [unavailable()], [unavailable()], [unavailable()], []]);
  const delays: number[] = [];
  await assert.rejects(
    collect(watchRun(client, { runId: "job-1" }, {
      initialBackoffMs: 10, backoffMultiplier: 2, maxBackoffMs: 30, jitter: 0.2, maxRetries: 4,
      onReconnect: (e) => delays.push(e.delayMs),
    })),
  );
  const expected = [10, 20, 30, 30];
  delays.slice(0, 4).forEach((d, i) => assert.ok(Math.abs(d - expected[i]!) <= expected[i]! * 0.2 + 1, `delay ${i}: ${d}`));
});

test("aborting while backing off ends the watch at once with Code.Canceled", async () => {
  const controller = new AbortController();
  const client = fakeClient([[{ native: "RUNNING" }, unavailable()], [unavailable()]]);
  const started = Date.now();
  await assert.rejects(
    collect(watchRun(client, { runId: "job-1" }, {
      initialBackoffMs: 60_000,
      signal: controller.signal,
      onReconnect: () => setTimeout(() => controller.abort(), 20),
    })),
    { code: Code.Canceled },
  );
  assert.ok(Date.now() - started < 5_000, "the backoff delay was not interrupted");
  assert.equal(client.calls, 1);
});

test("a signal aborted before the watch starts opens no stream", async () => {
  const client = fakeClient([[{ native: "RUNNING" }]]);
  await assert.rejects(
    collect(watchRun(client, { runId: "job-1" }, { signal: AbortSignal.abort() })),
    { code: Code.Canceled },
  );
  assert.equal(client.calls, 0);
});

test("breaking out of the loop cancels the stream", async () => {
  let cancelled = false;
  const client = {
    watchPipelineRun(_request: unknown, options?: { signal?: AbortSignal }): AsyncIterable<WatchPipelineRunResponse> {
      options?.signal?.addEventListener("abort", () => (cancelled = true));
      return (async function* () {
        const run = create(PipelineRunSchema, { runId: "job-1", nativeStatus: "RUNNING" });
        yield create(WatchPipelineRunResponseSchema, { run, sequence: 1n });
        await new Promise(() => {});
      })();
    },
  };
  for await (const run of watchRun(client as Pick<PlatformClient, "watchPipelineRun">, { runId: "job-1" })) {
    assert.equal(run.nativeStatus, "RUNNING");
    break;
  }
  assert.ok(cancelled);
});
