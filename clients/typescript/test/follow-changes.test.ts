// followChanges against the live server (tests/live_stack.py --server-process: the server in a
// process of its own, on the embedded emulator), with that process KILLED (SIGKILL) in the middle
// and started again on the same port. SPEC §12: without a history table the history lives in the
// process, so the old cursor is CURSOR_EXPIRED and the helper relists; with the demo's history
// table (--history, as `serve` runs the demo) the cursor stays valid and the helper resumes.
// Asserted against the runs the emulator holds (ListPipelineRuns): every submitted run's terminal
// state handed out, and no (run_id, version) twice.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Code,
  connect,
  followChanges,
  listRuns,
  type FeedEvent,
  type PlatformClient,
  type ReconnectEvent,
} from "@polysync/platform-client";
import { LiveStack } from "./live-stack.js";

interface Seen {
  events: FeedEvent[];
  reconnects: ReconnectEvent[];
  error?: unknown;
}

/** Follows the feed in the background until `signal` aborts; returns what it handed out. */
function follow(client: PlatformClient, signal: AbortSignal): { seen: Seen; done: Promise<void> } {
  const seen: Seen = { events: [], reconnects: [] };
  const done = (async () => {
    try {
      for await (const event of followChanges(client, {
        signal,
        backoff: { initialMs: 100, maxMs: 1_000 },
        maxReconnects: 30,
        onReconnect: (event) => seen.reconnects.push(event),
      })) {
        seen.events.push(event);
      }
    } catch (err) {
      seen.error = err;
    }
  })();
  return { seen, done };
}

async function until(what: string, cond: () => boolean, timeoutMs = 45_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !cond(); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((wake) => setTimeout(wake, 100));
  }
}

const changes = (seen: Seen) => seen.events.filter((e) => e.kind === "change");
const terminalSeen = (seen: Seen, runId: string) => changes(seen).some((e) => e.run!.runId === runId && e.run!.terminal);

async function killInTheMiddle(history: boolean): Promise<Seen> {
  const stack = await LiveStack.start(["--server-process", ...(history ? ["--history"] : [])]);
  const stop = new AbortController();
  try {
    const client = connect(stack.address);
    const { seen, done } = follow(client, stop.signal);
    await until("the snapshot is complete", () => seen.events.some((e) => e.kind === "snapshot_complete"));

    // Long enough to be running across the restart (a killed server takes seconds to come back on
    // this shared machine): a relist's snapshot has only non-terminal runs, so a run that ends while
    // no server runs is not handed out again after a relist (SPEC §12).
    const before: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { run } = await client.executePipeline({ pipeline: "hello", parameters: { duration_seconds: "30" } });
      before.push(run!.runId);
    }
    await until("every run is seen RUNNING", () =>
      before.every((id) => changes(seen).some((e) => e.run!.runId === id && e.run!.nativeStatus === "RUNNING")),
    );
    const pidBefore = stack.printed("server-pid");
    const handedOutBeforeKill = seen.events.length;
    await stack.restart(); // SIGKILL, then a new process on the same port
    assert.notEqual(stack.printed("server-pid"), pidBefore, "the server process was not replaced");

    const after: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { run } = await client.executePipeline({ pipeline: "hello", parameters: { duration_seconds: "2" } });
      after.push(run!.runId);
    }
    const submitted = [...before, ...after];
    await until("every submitted run's terminal state is handed out", () => submitted.every((id) => terminalSeen(seen, id)), 60_000);

    // What the emulator holds: every run on the demo queue, read through the server.
    const held = new Map<string, string>();
    for await (const run of listRuns(client, {})) held.set(run.runId, run.nativeStatus);
    for (const id of submitted) assert.equal(held.get(id), "SUCCEEDED", `run ${id} at the emulator`);
    for (const [id, status] of held) {
      const last = changes(seen).filter((e) => e.run!.runId === id).at(-1);
      assert.ok(last, `the feed never handed out run ${id}, which the emulator holds`);
      assert.equal(last.run!.nativeStatus, status, `run ${id}: the feed's last state vs the emulator's`);
    }

    // No (run_id, version) twice, and versions only go up, between relists (a relist starts anew).
    let epoch = new Map<string, bigint>();
    for (const event of seen.events) {
      if (event.kind === "relist") epoch = new Map();
      if (event.kind !== "change") continue;
      const last = epoch.get(event.run!.runId);
      assert.ok(last === undefined || event.version > last, `run ${event.run!.runId} version ${event.version} after ${last}`);
      epoch.set(event.run!.runId, event.version);
    }
    // The kill reached the helper as a broken stream, and it reconnected.
    assert.ok(seen.reconnects.length >= 1, "followChanges never reconnected");
    assert.equal(seen.reconnects[0]!.error.code, Code.Unavailable, seen.reconnects[0]!.error.message);
    assert.ok(seen.events.length > handedOutBeforeKill);
    assert.equal(seen.error, undefined);
    stop.abort();
    await done;
    return seen;
  } finally {
    stop.abort();
    await stack.stop();
  }
}

test("followChanges across a killed server without a history table: CURSOR_EXPIRED, relist", { timeout: 150_000 }, async () => {
  const seen = await killInTheMiddle(false);
  const relists = seen.events.filter((e) => e.kind === "relist");
  assert.equal(relists.length, 1, "one relist after the kill");
  const after = seen.events.slice(seen.events.indexOf(relists[0]!));
  assert.ok(after.some((e) => e.kind === "snapshot_complete"), "no new snapshot after the relist");
  assert.equal(relists[0]!.cursor, "");
});

test("followChanges across a killed server with the demo's history table: resumes from its cursor", { timeout: 150_000 }, async () => {
  const seen = await killInTheMiddle(true);
  assert.deepEqual(
    seen.events.filter((e) => e.kind === "relist"),
    [],
    "the history table keeps the cursor valid across the restart (SPEC §12)",
  );
  assert.equal(seen.events.filter((e) => e.kind === "snapshot_complete").length, 1, "a resume sends no new snapshot");
});
