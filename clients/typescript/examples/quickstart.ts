import { connect, RunStatus, watchRun } from "@polysync/platform-client";

// `make run` serves the demo platform on 127.0.0.1:50051 (plaintext; pass `tls` and `token` otherwise).
const client = connect(process.env.POLYSYNC_BATCH_ADDRESS ?? "http://127.0.0.1:50051");

const { run } = await client.executePipeline({ pipeline: "greet", parameters: { name: "Ada" } });
const runId = run!.runId;
console.log(`submitted ${runId}`);

// Each new state until the run is terminal; reconnects and resumes if the server restarts.
for await (const { run: state, heartbeat, staleSince } of watchRun(client, runId)) {
  if (heartbeat) continue; // the server's "still here"; staleSince is set while AWS cannot be polled
  console.log(`${RunStatus[state.status]} (${state.nativeStatus})${staleSince ? ` stale since ${staleSince.toISOString()}` : ""}`);
  if (state.terminal) console.log(`finished ${RunStatus[state.status]}: ${state.message}`);
}
