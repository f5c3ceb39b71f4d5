// Runs the repository's live server (tests/live_stack.py: the embedded AWS Batch emulator plus
// the gRPC server) for a test file, and drives it over stdin: "restart" and end-of-input. With
// options (--tls, --mtls, --token, --reader-token, --jwt) it reads the lines the server prints
// before "ready <port>" (its CA, client certificate and JWT signing key) and keeps its log.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes, sign } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { TlsOptions } from "@polysync/platform-client";

const START_TIMEOUT_MS = 60_000;

/** The repository root: two levels above this package's directory (clients/typescript). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!isPackageRoot(dir)) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("clients/typescript/package.json not found above the test");
    dir = parent;
  }
  return resolve(dir, "..", "..");
}

function isPackageRoot(dir: string): boolean {
  const manifest = join(dir, "package.json");
  return existsSync(manifest) && JSON.parse(readFileSync(manifest, "utf8")).name === "@polysync/platform-client";
}

/** The files of a stack started with --tls or --mtls (they live as long as the stack). */
export interface StackTls {
  /** "tls-ca": the CA that signed the server's (and the client's) certificate. */
  readonly caFile: string;
  /** "tls-client-cert": a client certificate with CN "cert-client". */
  readonly clientCertFile: string;
  /** "tls-client-key": its private key. */
  readonly clientKeyFile: string;
}

/** What a stack started with --jwt accepts: RS256 JWTs with kid "live", signed with `keyFile`. */
export interface StackJwt {
  /** "jwt-key": a PKCS8 PEM RSA private key. */
  readonly keyFile: string;
  /** "jwt-issuer": the `iss` the server requires. */
  readonly issuer: string;
  /** "jwt-audience": the `aud` the server requires. */
  readonly audience: string;
}

export class LiveStack {
  private readonly waiters: Array<(port: number) => void> = [];
  private readonly exited: Promise<number | null>;
  private readonly printedLines = new Map<string, string>();
  private stderr = "";

  private constructor(private readonly child: ChildProcessWithoutNullStreams, public port = 0) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const [name = "", value = ""] = line.trim().split(/ (.*)/, 2);
      if (name === "ready") this.waiters.shift()?.(Number(value));
      else if (value) this.printedLines.set(name, value);
    });
    // The whole log, not a tail: tests grep it for caller names and for secrets that must not be there.
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((done) => child.on("exit", (code) => done(code)));
  }

  /**
   * Starts `<repo>/.venv/bin/python -m tests.live_stack [options…]` and waits for its
   * "ready <port>" (with --tls/--mtls/--jwt the lines before it are read too).
   */
  static async start(options: readonly string[] = []): Promise<LiveStack> {
    const root = repoRoot();
    const child = spawn(join(root, ".venv", "bin", "python"), ["-m", "tests.live_stack", ...options], {
      cwd: root,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stack = new LiveStack(child);
    stack.port = await stack.nextReady();
    return stack;
  }

  /** The TLS files the stack printed, or undefined for a plaintext stack. */
  get tls(): StackTls | undefined {
    const [caFile, clientCertFile, clientKeyFile] = ["tls-ca", "tls-client-cert", "tls-client-key"].map((n) => this.printedLines.get(n));
    return caFile && clientCertFile && clientKeyFile ? { caFile, clientCertFile, clientKeyFile } : undefined;
  }

  /** The JWT settings the stack printed, or undefined without --jwt. */
  get jwt(): StackJwt | undefined {
    const [keyFile, issuer, audience] = ["jwt-key", "jwt-issuer", "jwt-audience"].map((n) => this.printedLines.get(n));
    return keyFile && issuer && audience ? { keyFile, issuer, audience } : undefined;
  }

  /** The value of a line "<name> <value>" the stack printed (the latest), e.g. "server-pid". */
  printed(name: string): string | undefined {
    return this.printedLines.get(name);
  }

  /** The address of the server, for connect: https:// when the stack speaks TLS. */
  get address(): string {
    return `${this.tls ? "https" : "http"}://127.0.0.1:${this.port}`;
  }

  /**
   * connect's `tls` for this stack: its CA and, with `clientCertificate`, the
   * client certificate and key (mutual TLS, caller "cert-client").
   */
  tlsOptions({ clientCertificate = false } = {}): TlsOptions {
    const tls = this.tls;
    if (!tls) throw new Error("the live stack was started without --tls or --mtls");
    const ca = readFileSync(tls.caFile, "utf8");
    return clientCertificate ? { ca, cert: readFileSync(tls.clientCertFile, "utf8"), key: readFileSync(tls.clientKeyFile, "utf8") } : { ca };
  }

  /** Everything the server wrote to stderr so far: with any option, one JSON line per RPC. */
  get log(): string {
    return this.stderr;
  }

  /** The access log records (event "rpc": method, code, caller, run_id, …) so far. */
  rpcRecords(): Array<Record<string, unknown>> {
    return this.stderr
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((record) => record["event"] === "rpc");
  }

  /** The callers the access log names so far. */
  loggedCallers(): Set<string> {
    return new Set(this.rpcRecords().flatMap((record) => (typeof record["caller"] === "string" ? [record["caller"]] : [])));
  }

  /** Waits (up to 5 s: stderr may arrive after the answer) until an access log line names `caller`. */
  async waitForCaller(caller: string): Promise<void> {
    for (const deadline = Date.now() + 5_000; !this.loggedCallers().has(caller); ) {
      if (Date.now() > deadline) throw new Error(`no access log line names caller ${caller}; callers: ${[...this.loggedCallers()].join(",")}`);
      await new Promise((wake) => setTimeout(wake, 50));
    }
  }

  /** Stops the server (open streams end) and waits until it serves again on the same port. */
  async restart(): Promise<void> {
    const ready = this.nextReady();
    this.child.stdin.write("restart\n");
    const port = await ready;
    if (port !== this.port) throw new Error(`live stack came back on port ${port}, not ${this.port}`);
  }

  /** Closes stdin, which stops the server, and waits for the process to exit. */
  async stop(): Promise<void> {
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  private nextReady(): Promise<number> {
    return new Promise((resolvePort, reject) => {
      const timer = setTimeout(() => reject(new Error(`live stack not ready in time:\n${this.stderr.slice(-20_000)}`)), START_TIMEOUT_MS);
      void this.exited.then((code) => reject(new Error(`live stack exited with ${code}:\n${this.stderr.slice(-20_000)}`)));
      this.waiters.push((port) => {
        clearTimeout(timer);
        resolvePort(port);
      });
    });
  }
}

/** A stack with TLS and caller auth, and the two static tokens it accepts. */
export interface SecuredStack {
  readonly stack: LiveStack;
  /** The bearer token of caller "client" (may submit on platform demo). */
  readonly token: string;
  /** The bearer token of caller "reader" (may only read on demo). */
  readonly readerToken: string;
}

/** A random bearer token, as a secret manager would hand one out. */
export function randomToken(): string {
  return randomBytes(24).toString("base64url");
}

/**
 * `tests.live_stack --tls --token <random> --reader-token <random> --jwt`: TLS with its own CA,
 * the callers "client" and "reader" by static token, and "jwt-client" by JWT.
 */
export async function startSecuredStack(): Promise<SecuredStack> {
  const token = randomToken();
  const readerToken = randomToken();
  const stack = await LiveStack.start(["--tls", `--token=${token}`, `--reader-token=${readerToken}`, "--jwt"]); // "=": a token may begin with "-"
  return { stack, token, readerToken };
}

/**
 * An RS256 JWT the stack accepts, made with node:crypto only: header {alg, typ, kid "live"},
 * claims {iss, aud, sub, iat, exp = iat + lifetimeSeconds}, signed RSASSA-PKCS1-v1_5 SHA-256.
 */
export function mintJwt(jwt: StackJwt, { subject = "jwt-client", lifetimeSeconds }: { subject?: string; lifetimeSeconds: number }): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const signingInput = `${part({ alg: "RS256", typ: "JWT", kid: "live" })}.${part({
    iss: jwt.issuer,
    aud: jwt.audience,
    sub: subject,
    iat: now,
    exp: now + lifetimeSeconds,
  })}`;
  const signature = sign("sha256", Buffer.from(signingInput), readFileSync(jwt.keyFile, "utf8"));
  return `${signingInput}.${signature.toString("base64url")}`;
}
