// Every scenario of clients/watch-policy.json (the one watch policy of every client,
// docs/clients.md) replayed against watchRun / watchRuns over scripted fake streams. Times are
// scaled by SCALE so the budget scenarios take about a second.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  backoffDelayMs,
  Code,
  ConnectError,
  DEFAULT_BACKOFF,
  DEFAULT_MAX_RECONNECTS,
  ErrorInfoSchema,
  PipelineRunSchema,
  reason,
  watchRun,
  watchRuns,
  WatchPipelineRunResponseSchema,
  type PlatformClient,
  type WatchEvent,
  type WatchPipelineRunResponse,
} from "@polysync/platform-client";
import { repoRoot } from "./live-stack.js";

const SCALE = 0.02;

interface Step {
  run?: string;
  native?: string;
  reason?: string;
  terminal?: boolean;
  exit_code?: number;
  size?: number;
  counts?: Record<string, number>;
  stale_since?: number;
  heartbeat?: boolean;
  message?: string;
  error?: string;
  hang?: boolean;
}

interface Scenario {
  name: string;
  watch: string[];
  token_source?: boolean;
  idle_timeout?: number;
  timeout?: number;
  streams: Step[][];
  expect: {
    events: string[];
    reconnects?: number[];
    reconnects_between?: [number, number];
    streams_opened?: number;
    requested?: string[][];
    end: string;
    end_reason?: string;
  };
}

const table = JSON.parse(readFileSync(join(repoRoot(), "clients", "watch-policy.json"), "utf8")) as {
  policy: { initial_backoff_seconds: number; max_backoff_seconds: number; multiplier: number; jitter: number; max_reconnects: number };
  backoff: { attempt: number; min: number; max: number }[];
  same_state: { name: string; a: Step; b: Step; same: boolean }[];
  scenarios: Scenario[];
};
const policy = table.policy;

/** "RESOURCE_EXHAUSTED" → Code.ResourceExhausted. */
function codeOf(name: string): Code {
  const pascal = name.toLowerCase().replace(/(^|_)(\w)/g, (_, __, c: string) => c.toUpperCase());
  const code = (Code as unknown as Record<string, Code>)[pascal];
  assert.ok(code !== undefined, `no Code ${name}`);
  return code;
}

function response(step: Step): WatchPipelineRunResponse {
  const run = create(PipelineRunSchema, {
    runId: step.run ?? "r1",
    nativeStatus: step.native ?? "",
    statusReason: step.reason ?? "",
    terminal: step.terminal ?? false,
    message: step.message ?? "",
    ...(step.exit_code !== undefined ? { exitCode: step.exit_code } : {}),
    ...(step.size !== undefined || step.counts !== undefined ? { array: { size: step.size ?? 0, statusCounts: step.counts ?? {} } } : {}),
  });
  return create(WatchPipelineRunResponseSchema, {
    run,
    heartbeat: step.heartbeat ?? false,
    ...(step.stale_since !== undefined ? { staleSince: { seconds: BigInt(step.stale_since), nanos: 0 } } : {}),
  });
}

function scripted(streams: Step[][]) {
  const fake = {
    requested: [] as string[][],
    play(ids: string[], signal: AbortSignal): AsyncIterable<WatchPipelineRunResponse> {
      fake.requested.push(ids);
      const steps = streams[fake.requested.length - 1];
      assert.ok(steps, `stream ${fake.requested.length} opened, the scenario has ${streams.length}`);
      return (async function* () {
        for (const step of steps) {
          if (step.hang) {
            await new Promise((_, reject) => signal.addEventListener("abort", () => reject(new ConnectError("aborted", Code.Canceled)), { once: true }));
          }
          if (step.error !== undefined) {
            const details = step.reason ? [{ desc: ErrorInfoSchema, value: { reason: step.reason, domain: "polysync.platform" } }] : [];
            throw new ConnectError(`scripted ${step.error}`, codeOf(step.error), undefined, details);
          }
          yield response(step);
        }
      })();
    },
    watchPipelineRun(request: { runId: string }, call: { signal: AbortSignal }) {
      return fake.play([request.runId], call.signal);
    },
    watchPipelineRuns(request: { runIds: string[] }, call: { signal: AbortSignal }) {
      return fake.play([...request.runIds], call.signal);
    },
  };
  return fake;
}

function describe(event: WatchEvent): string {
  const words = [event.run.runId, event.run.nativeStatus];
  if (event.staleSince !== undefined) words.push("stale");
  if (event.heartbeat) words.push("heartbeat");
  return words.join(" ");
}

const backoff = {
  initialMs: policy.initial_backoff_seconds * 1000 * SCALE,
  maxMs: policy.max_backoff_seconds * 1000 * SCALE,
  multiplier: policy.multiplier,
  jitter: policy.jitter,
};

for (const scenario of table.scenarios) {
  test(`watch policy: ${scenario.name}`, async () => {
    const fake = scripted(scenario.streams);
    const client = fake as unknown as Pick<PlatformClient, "watchPipelineRun" | "watchPipelineRuns">;
    const attempts: number[] = [];
    const options = {
      backoff,
      maxReconnects: policy.max_reconnects,
      freshTokenRetry: scenario.token_source ?? false,
      onReconnect: ({ attempt, delayMs }: { attempt: number; delayMs: number }) => {
        const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** (attempt - 1));
        assert.ok(delayMs >= base * (1 - policy.jitter) - 1e-9 && delayMs <= base * (1 + policy.jitter) + 1e-9, `attempt ${attempt}: ${delayMs} ms`);
        attempts.push(attempt);
      },
      ...(scenario.idle_timeout !== undefined ? { idleTimeoutMs: scenario.idle_timeout * 1000 * SCALE } : {}),
      ...(scenario.timeout !== undefined ? { timeoutMs: scenario.timeout * 1000 * SCALE } : {}),
    };
    const events: string[] = [];
    let error: unknown;
    try {
      const iterable = scenario.watch.length === 1 ? watchRun(client, scenario.watch[0]!, options) : watchRuns(client, scenario.watch, options);
      for await (const event of iterable) events.push(describe(event));
    } catch (err) {
      error = err;
    }
    const expect = scenario.expect;
    assert.deepEqual(events, expect.events);
    if (expect.reconnects_between) {
      const [low, high] = expect.reconnects_between;
      assert.ok(attempts.length >= low && attempts.length <= high, `reconnects ${attempts}`);
    } else {
      assert.deepEqual(attempts, expect.reconnects);
    }
    if (expect.streams_opened !== undefined) assert.equal(fake.requested.length, expect.streams_opened);
    if (expect.requested) assert.deepEqual(fake.requested, expect.requested);
    if (expect.end === "OK") {
      assert.equal(error, undefined);
    } else if (expect.end === "STREAM_ENDED_EARLY") {
      // TypeScript's clean-early-end error: UNAVAILABLE saying the stream ended before the end.
      assert.ok(error instanceof ConnectError && error.code === Code.Unavailable && /ended before/.test(error.message), String(error));
    } else {
      assert.ok(error instanceof ConnectError, String(error));
      assert.equal(Code[error.code], Code[codeOf(expect.end)], error.message);
      assert.equal(reason(error), expect.end_reason ?? "");
    }
  });
}

test("watch policy: the backoff table and budget are the defaults", () => {
  assert.deepEqual(
    { ...DEFAULT_BACKOFF },
    { initialMs: policy.initial_backoff_seconds * 1000, maxMs: policy.max_backoff_seconds * 1000, multiplier: policy.multiplier, jitter: policy.jitter },
  );
  assert.equal(DEFAULT_MAX_RECONNECTS, policy.max_reconnects);
  for (const row of table.backoff) {
    assert.ok(Math.abs(backoffDelayMs(row.attempt, {}, () => 0) - row.min * 1000) < 1e-6, `attempt ${row.attempt} low`);
    assert.ok(Math.abs(backoffDelayMs(row.attempt, {}, () => 1) - row.max * 1000) < 1e-6, `attempt ${row.attempt} high`);
  }
});

test("watch policy: same_state pairs", async () => {
  for (const pair of table.same_state) {
    const client = scripted([[pair.a, pair.b, { native: "SUCCEEDED", terminal: true }]]) as unknown as Pick<PlatformClient, "watchPipelineRun">;
    let n = 0;
    for await (const _ of watchRun(client, "r1")) n += 1;
    assert.equal(n === 2, pair.same, pair.name);
  }
});
