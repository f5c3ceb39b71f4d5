// watchRun against the live server (TLS and a bearer token), restarted in the middle of a watch
// (the server comes back with the same certificate and the same callers), and with its TCP
// connection reset under it.
import assert from "node:assert/strict";
import { createServer, connect as connectSocket, type AddressInfo, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { equals } from "@bufbuild/protobuf";
import {
  Code,
  connect,
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
let token: string;

before(async () => {
  ({ stack, token } = await startSecuredStack());
  client = connect(stack.address, { tls: stack.tlsOptions(), token });
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
  for await (const { run: state, heartbeat } of watchRun(client, run.runId, {
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

/** A TCP relay on 127.0.0.1 in front of the server; `reset()` tears every open connection down
 * with a TCP RST (what a killed pod or a load balancer's idle reaper does), and keeps listening. */
async function tcpRelay(port: number): Promise<{ port: number; reset(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connectSocket(port, "127.0.0.1");
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  return {
    port: (server.address() as AddressInfo).port,
    reset: () => {
      for (const socket of sockets) socket.resetAndDestroy();
    },
    close: () => {
      for (const socket of sockets) socket.destroy(); // the client's idle HTTP/2 session too
      return new Promise((closed) => server.close(() => closed()));
    },
  };
}

test("watchRun resumes after its connection is reset below gRPC, and ends SUCCEEDED", { timeout: 60_000 }, async () => {
  const relay = await tcpRelay(stack.port);
  const viaRelay = connect(`https://127.0.0.1:${relay.port}`, { tls: stack.tlsOptions(), token });
  try {
    const { run } = await viaRelay.executePipeline({ pipeline: "hello", parameters: { duration_seconds: "3" } });
    assert.ok(run);
    const reconnects: ReconnectEvent[] = [];
    let final: PipelineRun | undefined;
    for await (const { run: state, heartbeat } of watchRun(viaRelay, run.runId, {
      signal: AbortSignal.timeout(45_000),
      backoff: { initialMs: 100, maxMs: 1_000 },
      onReconnect: (event) => reconnects.push(event),
    })) {
      if (heartbeat) continue;
      if (final === undefined) relay.reset(); // the first state is in: cut the connection
      final = state;
    }
    assert.ok(reconnects.length >= 1, "watchRun never reconnected");
    assert.equal(reconnects[0]!.error.code, Code.Unavailable, reconnects[0]!.error.message);
    assert.equal(final?.status, RunStatus.SUCCEEDED);
  } finally {
    await relay.close();
  }
});
