// The same client from CommonJS: require() resolves the package's "require" export (dist/cjs).
// scripts/test-consumers.sh installs the `npm pack` tarball into a CommonJS project and runs this.
const { connect, execute, listRuns, missingParameters, RunStatus, watchRun } = require("@polysync/platform-client");

async function main() {
  const client = connect(process.env.POLYSYNC_BATCH_ADDRESS ?? "127.0.0.1:50051");
  try {
    await client.executePipeline({ pipeline: "greet" });
    throw new Error("greet without name was accepted");
  } catch (err) {
    console.log(`ok refused: missing ${missingParameters(err).join(",")}`);
  }
  const { run } = await client.executePipeline({ pipeline: "greet", parameters: { name: "Cy" } });
  for await (const { run: state, staleSince } of watchRun(client, run.runId)) {
    console.log(`event ${state.nativeStatus} stale_since=${staleSince ? staleSince.toISOString() : "none"}`);
  }
  const done = await execute(client, { pipeline: "greet", parameters: { name: "Di" } });
  console.log(`ok executed: ${RunStatus[done.status]}`);
  let runs = 0;
  for await (const _ of listRuns(client, { pageSize: 2 })) runs++;
  console.log(`ok paged: ${runs} runs`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
