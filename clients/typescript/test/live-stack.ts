// Runs the repository's live server (tests/live_stack.py: the embedded AWS Batch emulator plus
// the gRPC server) for a test file, and drives it over stdin: "restart" and end-of-input.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

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

export class LiveStack {
  private readonly waiters: Array<(port: number) => void> = [];
  private readonly exited: Promise<number | null>;
  private stderr = "";

  private constructor(private readonly child: ChildProcessWithoutNullStreams, public port = 0) {
    createInterface({ input: child.stdout }).on("line", (line) => {
      const match = /^ready (\d+)$/.exec(line.trim());
      if (match) this.waiters.shift()?.(Number(match[1]));
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-20_000);
    });
    this.exited = new Promise((done) => child.on("exit", (code) => done(code)));
  }

  /** Starts `<repo>/.venv/bin/python -m tests.live_stack` and waits for its "ready <port>". */
  static async start(): Promise<LiveStack> {
    const root = repoRoot();
    const child = spawn(join(root, ".venv", "bin", "python"), ["-m", "tests.live_stack"], {
      cwd: root,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const stack = new LiveStack(child);
    stack.port = await stack.nextReady();
    return stack;
  }

  /** The address of the server, for createPlatformClient. */
  get address(): string {
    return `http://127.0.0.1:${this.port}`;
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
      const timer = setTimeout(() => reject(new Error(`live stack not ready in time:\n${this.stderr}`)), START_TIMEOUT_MS);
      void this.exited.then((code) => reject(new Error(`live stack exited with ${code}:\n${this.stderr}`)));
      this.waiters.push((port) => {
        clearTimeout(timer);
        resolvePort(port);
      });
    });
  }
}
