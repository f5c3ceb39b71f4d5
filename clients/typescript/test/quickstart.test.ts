// Runs examples/quickstart.ts (compiled) against the live server, so the README's copy stays true.
// Plaintext on purpose: the quickstart is the local demo (`make run`), which has no TLS or tokens.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { LiveStack } from "./live-stack.js";

let stack: LiveStack;

before(async () => {
  stack = await LiveStack.start();
});

after(async () => {
  await stack?.stop();
});

test("examples/quickstart runs greet to SUCCEEDED", { timeout: 40_000 }, async () => {
  const example = fileURLToPath(new URL("../examples/quickstart.js", import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [example], {
    env: { ...process.env, POLYSYNC_BATCH_ADDRESS: stack.address },
    timeout: 30_000,
  });
  const lines = stdout.trim().split("\n");
  assert.match(lines[0]!, /^submitted \S+$/);
  assert.ok(lines.some((l) => l.startsWith("RUNNING (")), stdout);
  assert.match(lines.at(-1)!, /^finished SUCCEEDED: /);
});
