// The contract's RPCs against the live server: submit, watch, cancel, and rich errors, over TLS
// (the stack's own CA) with the bearer token of caller "client", as a production caller connects.
// Then TLS and caller auth themselves (SPEC §8.1/§8.2): refused callers, plaintext against the
// TLS port, short-lived JWTs from a token source, and mutual TLS against a second stack; the last
// test greps the first stack's log for every secret sent to it.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, test } from "node:test";
import {
  Code,
  ConnectError,
  connect,
  ERROR_DOMAIN,
  errorInfo,
  reason,
  fieldViolations,
  execute,
  listPipelines,
  listRuns,
  missingParameters,
  Reason,
  RunStatus,
  streamLogs,
  watchRun,
  watchRuns,
  type ExecutePipelineResponse,
  type PipelineRun,
  type PlatformClient,
  type ReconnectEvent,
  type WatchPipelineRunResponse,
} from "@polysync/platform-client";
import { LiveStack, mintJwt, randomToken, startSecuredStack } from "./live-stack.js";

let stack: LiveStack; // --tls --token --reader-token --jwt
let token: string; // caller "client"
let readerToken: string; // caller "reader"
let mtls: LiveStack; // --mtls alone
let client: PlatformClient;
const sent: string[] = []; // every token and JWT sent to `stack`, for the last test

before(async () => {
  let secured;
  [secured, mtls] = await Promise.all([startSecuredStack(), LiveStack.start(["--mtls"])]);
  ({ stack, token, readerToken } = secured);
  sent.push(token, readerToken);
  client = connect(stack.address, { tls: stack.tlsOptions(), token });
});

after(async () => {
  await Promise.all([stack?.stop(), mtls?.stop()]);
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
  assert.equal(reason(err), "RUN_NOT_FOUND");
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
  assert.equal(reason(err), "MISSING_PARAMETERS");
  assert.deepEqual(
    fieldViolations(err).map((v) => v.field),
    ["parameters[name]"],
  );
});

test("connect with tls options takes a bare host:port as https", async () => {
  const bare = connect(`127.0.0.1:${stack.port}`, { tls: stack.tlsOptions(), token });
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
  for await (const event of watchRuns(client, [a.runId, b.runId])) {
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

test("listPipelines and listRuns page through everything", async () => {
  const names: string[] = [];
  for await (const p of listPipelines(client, { pageSize: 1 })) names.push(p.name);
  assert.ok(names.length >= 3 && names.includes("greet"), names.join(","));
  const ids = new Set<string>();
  for await (const r of listRuns(client, { pageSize: 2 })) {
    assert.ok(!ids.has(r.runId), `run ${r.runId} listed twice`);
    ids.add(r.runId);
  }
  assert.ok(ids.size >= 5, `paged through ${ids.size} runs`);
});

// --- TLS and caller auth (SPEC §8.1/§8.2) ---

/** A client of the secured stack: TLS with its CA, and `bearer` unless it is undefined. */
function securedClient(bearer: string | undefined): PlatformClient {
  return connect(stack.address, { tls: stack.tlsOptions(), ...(bearer === undefined ? {} : { token: bearer }) });
}

async function failure(call: Promise<unknown>): Promise<ConnectError> {
  const err = await call.then(
    () => assert.fail("the call succeeded"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConnectError, `not a ConnectError: ${err}`);
  return err;
}

async function watchRunToEnd(client: PlatformClient, runId: string, onReconnect?: (event: ReconnectEvent) => void): Promise<PipelineRun[]> {
  const states: PipelineRun[] = [];
  const signal = AbortSignal.timeout(45_000);
  for await (const { run, heartbeat } of watchRun(client, runId, { signal, backoff: { initialMs: 50 }, ...(onReconnect ? { onReconnect } : {}) })) {
    if (!heartbeat) states.push(run);
  }
  return states;
}

test("TLS with the stack's CA and a bearer token: executePipeline hello, then watchRun it to SUCCEEDED", { timeout: 60_000 }, async () => {
  const { run } = await client.executePipeline({ pipeline: "hello" });
  assert.ok(run);
  const final = (await watchRunToEnd(client, run.runId)).at(-1)!;
  assert.equal(final.terminal, true);
  assert.equal(final.status, RunStatus.SUCCEEDED);
  await stack.waitForCaller("client");
});

test("the reader token may ListPipelines, but its ExecutePipeline is PERMISSION_DENIED CALLER_NOT_ALLOWED", async () => {
  const reader = securedClient(readerToken);
  const { pipelines } = await reader.listPipelines({});
  assert.ok(pipelines.some((p) => p.name === "hello"), pipelines.map((p) => p.name).join(","));

  const denied = await failure(reader.executePipeline({ pipeline: "hello" }));
  assert.equal(denied.code, Code.PermissionDenied);
  assert.equal(reason(denied), Reason.CALLER_NOT_ALLOWED);
  assert.equal(errorInfo(denied)?.metadata["caller"], "reader");
  assert.equal(errorInfo(denied)?.metadata["platform"], "demo");
});

test("an unknown token, and no token at all, are UNAUTHENTICATED CALLER_UNAUTHENTICATED", async () => {
  const unknown = randomToken();
  sent.push(unknown);
  for (const caller of [securedClient(unknown), securedClient(undefined)]) {
    const refused = await failure(caller.listPipelines({}));
    assert.equal(refused.code, Code.Unauthenticated);
    assert.equal(reason(refused), Reason.CALLER_UNAUTHENTICATED);
  }
});

/**
 * Asserts that a call which failed below gRPC is reported as Go's and Java's clients report it:
 * UNAVAILABLE with a hint (connect-node itself says Code.Canceled, "http/2 stream closed with
 * error code CANCEL": the connection closes under the open stream; connect() explains that), and
 * never a status from the server. The server's access log has no line for the call's run id: it
 * never reached an RPC handler.
 */
async function assertRefusedBelowGrpc(server: LiveStack, caller: PlatformClient, hint: RegExp): Promise<void> {
  const runId = `never-served-${randomToken()}`;
  const refused = await failure(caller.getPipelineRun({ runId }, { timeoutMs: 10_000 }));
  assert.equal(refused.code, Code.Unavailable, `${Code[refused.code]}: ${refused.message}`);
  assert.match(refused.message, /http\/2 stream closed with error code CANCEL/);
  assert.match(refused.message, hint);
  assert.equal(reason(refused), "");
  await new Promise((wake) => setTimeout(wake, 300)); // let a log line, if any, arrive
  assert.equal(server.rpcRecords().filter((r) => r["run_id"] === runId).length, 0, "the call reached the server");
}

test("a plaintext client cannot talk to the TLS port", async () => {
  await assertRefusedBelowGrpc(stack, connect(`http://127.0.0.1:${stack.port}`, { token }), /it uses TLS \(connect with tls options or an https:\/\/ address\)/);
});

test("watchRun outlives 2 s JWTs: after UNAUTHENTICATED it reconnects with a fresh one from the token source", { timeout: 60_000 }, async () => {
  const jwt = stack.jwt;
  assert.ok(jwt, "the secured stack printed no JWT settings");
  let calls = 0;
  const jwtClient = connect(stack.address, {
    tls: stack.tlsOptions(),
    tokenSource: () => {
      calls += 1;
      const fresh = mintJwt(jwt, { lifetimeSeconds: 2 }); // the run takes about 5 s
      sent.push(fresh);
      return fresh;
    },
  });
  const { run } = await jwtClient.executePipeline({ pipeline: "hello", parameters: { duration_seconds: "4" } });
  assert.ok(run);

  const reconnects: ReconnectEvent[] = [];
  const final = (await watchRunToEnd(jwtClient, run.runId, (event) => reconnects.push(event))).at(-1)!;

  assert.equal(final.status, RunStatus.SUCCEEDED);
  const unauthenticated = reconnects.filter((e) => e.error.code === Code.Unauthenticated);
  assert.ok(unauthenticated.length >= 1, `no reconnect after UNAUTHENTICATED: ${reconnects.map((e) => Code[e.error.code]).join(",")}`);
  assert.equal(reason(unauthenticated[0]!.error), Reason.CALLER_UNAUTHENTICATED);
  assert.ok(calls >= 3, `the token source was called ${calls} time(s)`);
  await stack.waitForCaller("jwt-client");
});

test("mutual TLS: the client certificate alone names caller cert-client, who may execute hello", async () => {
  const certified = connect(mtls.address, { tls: mtls.tlsOptions({ clientCertificate: true }) });
  const { run } = await certified.executePipeline({ pipeline: "hello" });
  assert.match(run?.runId ?? "", /\S/);
  await mtls.waitForCaller("cert-client");
});

test("mutual TLS: a client without a certificate is refused in the TLS handshake", async () => {
  await assertRefusedBelowGrpc(mtls, connect(mtls.address, { tls: mtls.tlsOptions() }), /needs tls.cert and tls.key/);
});

// Last: node:test runs a file's top-level tests in order.
test("the secured stack's log names its callers but holds none of the tokens, JWTs or signatures sent", () => {
  const log = stack.log;
  const callers = stack.loggedCallers();
  for (const caller of ["client", "reader", "jwt-client"]) assert.ok(callers.has(caller), `no access log line names caller ${caller}`);
  const jwts = sent.filter((s) => s.split(".").length === 3);
  assert.ok(jwts.length >= 3, "the JWT test did not run before this one");
  for (const secret of [...sent, ...jwts.map((t) => t.split(".")[2]!)]) {
    assert.ok(!log.includes(secret), `a secret reached the server log: ${secret.slice(0, 6)}…`);
  }
});
