// watchRun against the live server (TLS and a bearer token), restarted in the middle of a watch:
// the server comes back with the same certificate and the same callers.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { equals } from "@bufbuild/protobuf";
import {
  Code,
  createPlatformClient,
  PipelineRunSchema,
  RunStatus,
  watchRun,
  type PipelineRun,
  type PlatformClient,
  type ReconnectEvent,
} from "@polysync/platform-client";
import { startSecuredStack, type LiveStack } from "./live-stack.js";

let stack: LiveStack;
let client: PlatformClient;

before(async () => {
  let token: string;
  ({ stack, token } = await startSecuredStack());
  client = createPlatformClient(stack.address, { tls: stack.tlsOptions(), token });
});

after(async () => {
  await stack?.stop();
});

test("watchRun survives a server restart and ends SUCCEEDED", { timeout: 60_000 }, async () => {
  const { run } = await client.executePipeline({ pipeline: "hello", parameters: { duration_seconds: "4" } });
  assert.ok(run);

  const reconnects: ReconnectEvent[] = [];
  const states: PipelineRun[] = [];
  let restarted: Promise<void> | undefined;
  const signal = AbortSignal.timeout(45_000);
  for await (const { run: state, heartbeat } of watchRun(client, { runId: run.runId }, {
    signal,
    backoff: { initialMs: 100, maxMs: 1_000 },
    maxReconnects: 20,
    onReconnect: (event) => reconnects.push(event),
  })) {
    if (heartbeat) continue;
    states.push(state);
    if (restarted === undefined) {
      assert.equal(state.terminal, false, "the run ended before the restart");
      restarted = stack.restart();
    }
  }
  await restarted;

  assert.ok(reconnects.length >= 1, "watchRun never reconnected");
  assert.equal(reconnects[0]!.attempt, 1);
  assert.equal(reconnects[0]!.error.code, Code.Unavailable);
  for (let i = 1; i < states.length; i++) {
    assert.ok(!equals(PipelineRunSchema, states[i - 1]!, states[i]!), `state ${i} repeats state ${i - 1}`);
  }
  assert.ok(states.every((s) => s.runId === run.runId));
  const final = states.at(-1)!;
  assert.equal(final.terminal, true);
  assert.equal(final.status, RunStatus.SUCCEEDED);
  assert.equal(final.exitCode, 0);
  assert.equal(states.filter((s) => s.terminal).length, 1);
});
