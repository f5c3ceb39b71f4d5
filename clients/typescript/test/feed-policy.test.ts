// Every scenario of clients/feed-policy.json (the one feed-helper policy of every client,
// docs/clients.md "The feed helper") replayed against followChanges over scripted fake
// WatchRunChanges streams. Backoff times are scaled by SCALE (the watch policy's numbers).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  BatchGetPipelineRunsResponseSchema,
  Code,
  ConnectError,
  ErrorInfoSchema,
  followChanges,
  reason,
  WatchRunChangesResponseSchema,
  type BatchGetPipelineRunsRequest,
  type BatchGetPipelineRunsResponse,
  type FeedEvent,
  type PlatformClient,
  type WatchRunChangesRequest,
  type WatchRunChangesResponse,
} from "@polysync/platform-client";
import { repoRoot } from "./live-stack.js";

const SCALE = 0.02;

interface Item {
  changes?: [string, number, string][];
  cursor?: string;
  heartbeat?: boolean;
  snapshot_complete?: boolean;
  stale_since?: string;
  error?: string;
  reason?: string;
}

/** One BatchGetPipelineRuns call: the run ids the helper must ask for, and the answer or the error. */
interface BatchGet {
  run_ids: string[];
  runs?: [string, string][];
  missing_run_ids?: string[];
  error?: string;
  reason?: string;
}

interface Scenario {
  name: string;
  start: { cursor: string; tags?: Record<string, string>; in_flight?: string[] };
  streams: Item[][];
  batch_gets?: BatchGet[];
  expect: {
    requests: { cursor: string; snapshot: boolean; tags?: Record<string, string> }[];
    events: string[];
    reconnects: number[];
    cursor: string;
    end: string;
    end_reason: string;
  };
}

const root = repoRoot();
const feed = JSON.parse(readFileSync(join(root, "clients", "feed-policy.json"), "utf8")) as { scenarios: Scenario[] };
const watchPolicy = JSON.parse(readFileSync(join(root, "clients", "watch-policy.json"), "utf8")).policy as {
  initial_backoff_seconds: number;
  max_backoff_seconds: number;
  multiplier: number;
  jitter: number;
  max_reconnects: number;
};

/** "RESOURCE_EXHAUSTED" → Code.ResourceExhausted. */
function codeOf(name: string): Code {
  const pascal = name.toLowerCase().replace(/(^|_)(\w)/g, (_, __, c: string) => c.toUpperCase());
  const code = (Code as unknown as Record<string, Code>)[pascal];
  assert.ok(code !== undefined, `no Code ${name}`);
  return code;
}

/** A run of the table: terminal when its native status is SUCCEEDED or FAILED. */
function run(runId: string, nativeStatus: string) {
  return { runId, nativeStatus, terminal: nativeStatus === "SUCCEEDED" || nativeStatus === "FAILED" };
}

function scriptedError(code: string, why: string | undefined): ConnectError {
  const details = why ? [{ desc: ErrorInfoSchema, value: { reason: why, domain: "polysync.platform" } }] : [];
  return new ConnectError(`scripted ${code}`, codeOf(code), undefined, details);
}

function message(item: Item): WatchRunChangesResponse {
  return create(WatchRunChangesResponseSchema, {
    changes: (item.changes ?? []).map(([runId, version, nativeStatus]) => ({ run: run(runId, nativeStatus), version: BigInt(version) })),
    cursor: item.cursor ?? "",
    heartbeat: item.heartbeat ?? false,
    snapshotComplete: item.snapshot_complete ?? false,
    ...(item.stale_since ? { staleSince: { seconds: BigInt(Date.parse(item.stale_since) / 1000), nanos: 0 } } : {}),
  });
}

function scripted(streams: Item[][], batchGets: BatchGet[]) {
  const requests: { cursor: string; snapshot: boolean; tags: Record<string, string> }[] = [];
  const reads: { runIds: string[]; platform: string }[] = [];
  const client = {
    async batchGetPipelineRuns(request: Partial<BatchGetPipelineRunsRequest>): Promise<BatchGetPipelineRunsResponse> {
      reads.push({ runIds: [...(request.runIds ?? [])], platform: request.platform ?? "" });
      const answer = batchGets[reads.length - 1];
      if (answer === undefined) throw new ConnectError(`BatchGetPipelineRuns call ${reads.length}: the scenario has ${batchGets.length}`, Code.Internal);
      if (answer.error !== undefined) throw scriptedError(answer.error, answer.reason);
      return create(BatchGetPipelineRunsResponseSchema, {
        runs: (answer.runs ?? []).map(([runId, nativeStatus]) => run(runId, nativeStatus)),
        missingRunIds: answer.missing_run_ids ?? [],
      });
    },
    watchRunChanges(request: Partial<WatchRunChangesRequest>, _call: { signal: AbortSignal }): AsyncIterable<WatchRunChangesResponse> {
      requests.push({ cursor: request.cursor ?? "", snapshot: request.snapshot ?? false, tags: { ...(request.tags ?? {}) } });
      const items = streams[requests.length - 1];
      assert.ok(items, `stream ${requests.length} opened, the scenario has ${streams.length}`);
      return (async function* () {
        for (const item of items) {
          if (item.error !== undefined) throw scriptedError(item.error, item.reason);
          yield message(item);
        }
      })();
    },
  };
  return { client: client as unknown as Pick<PlatformClient, "watchRunChanges" | "batchGetPipelineRuns">, requests, reads };
}

function describe(event: FeedEvent): string {
  const words: string[] = [event.kind];
  if (event.kind === "change") words.push(event.run!.runId, String(event.version), event.run!.nativeStatus);
  if (event.kind === "gone") words.push(event.run!.runId);
  if (event.stale) words.push("stale");
  words.push(`@${event.cursor}`);
  return words.join(" ");
}

const backoff = {
  initialMs: watchPolicy.initial_backoff_seconds * 1000 * SCALE,
  maxMs: watchPolicy.max_backoff_seconds * 1000 * SCALE,
  multiplier: watchPolicy.multiplier,
  jitter: watchPolicy.jitter,
};

for (const scenario of feed.scenarios) {
  test(`feed policy: ${scenario.name}`, async () => {
    const { client, requests, reads } = scripted(scenario.streams, scenario.batch_gets ?? []);
    const attempts: number[] = [];
    const events: string[] = [];
    let cursor = scenario.start.cursor;
    let error: unknown;
    try {
      for await (const event of followChanges(client, {
        cursor: scenario.start.cursor,
        ...(scenario.start.tags ? { tags: scenario.start.tags } : {}),
        ...(scenario.start.in_flight ? { inFlight: scenario.start.in_flight } : {}),
        backoff,
        maxReconnects: watchPolicy.max_reconnects,
        onReconnect: ({ attempt, delayMs }) => {
          const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** (attempt - 1));
          assert.ok(delayMs >= base * (1 - backoff.jitter) - 1e-9 && delayMs <= base * (1 + backoff.jitter) + 1e-9, `attempt ${attempt}: ${delayMs} ms`);
          attempts.push(attempt);
        },
      })) {
        events.push(describe(event));
        cursor = event.cursor;
      }
    } catch (err) {
      error = err;
    }
    const expect = scenario.expect;
    assert.deepEqual(
      requests,
      expect.requests.map((r) => ({ cursor: r.cursor, snapshot: r.snapshot, tags: r.tags ?? {} })),
    );
    assert.deepEqual(events, expect.events);
    // The reads, call by call: the run ids in in-flight order, on the feed's platform; none unscripted.
    assert.deepEqual(
      reads,
      (scenario.batch_gets ?? []).map((b) => ({ runIds: b.run_ids, platform: "" })),
    );
    assert.deepEqual(attempts, expect.reconnects);
    assert.equal(cursor, expect.cursor);
    assert.ok(error instanceof ConnectError, String(error));
    assert.equal(Code[error.code], Code[codeOf(expect.end)], error.message);
    assert.equal(reason(error), expect.end_reason);
  });
}

// Beyond the table: a relist's reads ask for at most 1000 run ids a call (BatchGetPipelineRuns'
// limit), in the order the runs were first handed out.
test("feed: a relist's reads ask for at most 1000 run ids a call", async () => {
  const ids = Array.from({ length: 1001 }, (_, i) => `r${i}`);
  const { client, reads } = scripted(
    [
      [
        { changes: ids.map((id): [string, number, string] => [id, 1, "RUNNING"]), cursor: "c1", snapshot_complete: true },
        { error: "UNAVAILABLE", reason: "SERVER_SHUTTING_DOWN" },
      ],
      [{ error: "FAILED_PRECONDITION", reason: "CURSOR_EXPIRED" }],
      [{ cursor: "k1", snapshot_complete: true }, { error: "PERMISSION_DENIED", reason: "CALLER_NOT_ALLOWED" }],
    ],
    [
      { run_ids: ids.slice(0, 1000), missing_run_ids: ids.slice(0, 1000) },
      { run_ids: ids.slice(1000), runs: [[ids[1000]!, "FAILED"]] },
    ],
  );
  const after: string[] = []; // what follows the relist
  let relisted = false;
  await assert.rejects(async () => {
    for await (const event of followChanges(client, { backoff: { initialMs: 1, maxMs: 1 } })) {
      if (relisted) after.push(describe(event));
      relisted ||= event.kind === "relist";
    }
  }, (err: unknown) => err instanceof ConnectError && reason(err) === "CALLER_NOT_ALLOWED");
  assert.deepEqual(
    reads.map((r) => r.runIds),
    [ids.slice(0, 1000), ids.slice(1000)],
  );
  assert.deepEqual(after, [...ids.slice(0, 1000).map((id) => `gone ${id} @`), "change r1000 0 FAILED @", "snapshot_complete @k1"]);
});
