// connect's TLS, client certificate and bearer token, against a tiny local gRPC
// server on 127.0.0.1: it records the authorization header and the client certificate it got
// (platform.test.ts checks the same options against the real server). Certificates come from
// the openssl command.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { after, before, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  Code,
  ConnectError,
  connect,
  hasTokenSource,
  watchRun,
  GetPipelineRunResponseSchema,
  PipelineRunSchema,
  PlatformService,
  type PlatformClient,
} from "@polysync/platform-client";

const seen: { authorization: string | null }[] = [];
const cns: string[] = []; // the client certificate's CN of each TLS request
const handler = connectNodeAdapter({
  grpc: true,
  connect: false,
  grpcWeb: false,
  routes: (router) =>
    router.service(PlatformService, {
      getPipelineRun(request, context) {
        seen.push({ authorization: context.requestHeader.get("authorization") });
        return create(GetPipelineRunResponseSchema, { run: create(PipelineRunSchema, { runId: request.runId }) });
      },
      // Refuses a stream whose token is "token-1" (expired), else sends a terminal state.
      async *watchPipelineRun(request, context) {
        const authorization = context.requestHeader.get("authorization");
        seen.push({ authorization });
        if (authorization === null || authorization === "Bearer token-1") throw new ConnectError("token expired", Code.Unauthenticated);
        yield { sequence: 1n, run: create(PipelineRunSchema, { runId: request.runId, nativeStatus: "SUCCEEDED", terminal: true }) };
      },
    }),
});

let dir: string;
let plain: http2.Http2Server;
let secure: http2.Http2SecureServer;
let plainPort = 0;
let securePort = 0;
const sessions = new Set<http2.ServerHttp2Session>();
let pem: { ca: string; cert: string; key: string };

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "pki-"));
  openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=test CA", "-keyout", "ca.key", "-out", "ca.crt");
  for (const [name, cn, ext] of [["server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"],
    ["client", "scheduler", "extendedKeyUsage=clientAuth"]] as const) {
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", `/CN=${cn}`,
      "-keyout", `${name}.key`, "-out", `${name}.csr`);
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1",
      "-extfile", `${name}.ext`, "-out", `${name}.crt`);
  }
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  pem = { ca: read("ca.crt"), cert: read("client.crt"), key: read("client.key") };

  plain = http2.createServer(handler);
  secure = http2.createSecureServer(
    { cert: read("server.crt"), key: read("server.key"), ca: read("ca.crt"), requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      cns.push(String((req.socket as TLSSocket).getPeerCertificate().subject?.CN));
      handler(req, res);
    },
  );
  for (const server of [plain, secure]) server.on("session", (session) => sessions.add(session));
  await new Promise<void>((done) => plain.listen(0, "127.0.0.1", done));
  await new Promise<void>((done) => secure.listen(0, "127.0.0.1", done));
  plainPort = (plain.address() as AddressInfo).port;
  securePort = (secure.address() as AddressInfo).port;
});

after(() => {
  plain?.close();
  secure?.close();
  for (const session of sessions) session.destroy(); // the clients keep their connections open
  rmSync(dir, { recursive: true, force: true });
});

async function call(client: PlatformClient) {
  seen.length = 0;
  return client.getPipelineRun({ runId: "job-1" }, { timeoutMs: 5_000 });
}

test("a static token is sent as authorization: Bearer <token> over plaintext", async () => {
  await call(connect(`127.0.0.1:${plainPort}`, { token: "s3cret" }));
  assert.deepEqual(seen.map((s) => s.authorization), ["Bearer s3cret"]);
  await call(connect(`127.0.0.1:${plainPort}`));
  assert.deepEqual(seen.map((s) => s.authorization), [null]);
});

test("TLS with a custom CA, a client certificate and a token source asked on every call", async () => {
  let n = 0;
  const client = connect(`127.0.0.1:${securePort}`, { tls: pem, tokenSource: async () => `token-${++n}` });
  seen.length = 0;
  cns.length = 0;
  await client.getPipelineRun({ runId: "job-1" });
  await client.getPipelineRun({ runId: "job-2" });
  assert.deepEqual(seen.map((s) => s.authorization), ["Bearer token-1", "Bearer token-2"]);
  assert.deepEqual(cns, ["scheduler", "scheduler"]);
});

test("TLS fails without the CA, and without the client certificate", async () => {
  // Node's roots do not know the test CA.
  await assert.rejects(call(connect(`127.0.0.1:${securePort}`, { tls: { cert: pem.cert, key: pem.key } })), /self-signed certificate/);
  await assert.rejects(call(connect(`127.0.0.1:${securePort}`, { tls: { ca: pem.ca } })));
  const ok = await call(connect(`https://127.0.0.1:${securePort}`, { tls: pem }));
  assert.equal(ok.run?.runId, "job-1");
});

test("a client with a token source retries UNAUTHENTICATED in its watches; one with a static token does not", () => {
  assert.equal(hasTokenSource(connect("127.0.0.1:1", { tokenSource: () => "t" })), true);
  assert.equal(hasTokenSource(connect("127.0.0.1:1", { token: "t" })), false);
});

test("watchRun of a client with a token source reconnects once with a fresh token", async () => {
  let n = 0;
  const client = connect(`127.0.0.1:${plainPort}`, { tokenSource: () => `token-${++n}` });
  seen.length = 0;
  const states: string[] = [];
  for await (const event of watchRun(client, "job-1", { backoff: { initialMs: 1, maxMs: 1 } })) states.push(event.run.nativeStatus);
  assert.deepEqual(states, ["SUCCEEDED"]);
  assert.deepEqual(seen.map((s) => s.authorization), ["Bearer token-1", "Bearer token-2"]);
  // A static token cannot get fresher: UNAUTHENTICATED is thrown at once.
  const fixed = connect(`127.0.0.1:${plainPort}`, { token: "token-1" });
  await assert.rejects(async () => {
    for await (const _ of watchRun(fixed, "job-1", { backoff: { initialMs: 1, maxMs: 1 } })) void _;
  }, { code: Code.Unauthenticated });
});

test("contradictory options are refused", () => {
  assert.throws(() => connect("127.0.0.1:1", { token: "a", tokenSource: () => "b" }), TypeError);
  assert.throws(() => connect("http://127.0.0.1:1", { tls: {} }), TypeError);
});
