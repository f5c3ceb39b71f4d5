// explainFailure (docs/clients.md "Why a run failed, in words", SPEC §13): a failed run's cause,
// attempts and advice as a few lines for people. The exact text is fixed by
// clients/explain-failure.json, which test/explain-failure.test.ts replays.
import { FailureCause, RunStatus, type PipelineRun } from "./gen/polysync/platform/v1/pipeline_run_pb.js";

function cause(value: FailureCause): string {
  return FailureCause[value] ?? "UNSPECIFIED";
}

/**
 * Why a run failed, in words: "failed: CAUSE after N attempt(s): REASON", then one line per
 * attempt ("  attempt I: CAUSE, exit code E: REASON (log stream S)") and one per warning
 * ("  advice: …"), each ending with a newline. "" for a run that did not fail (a cancelled run
 * included).
 */
export function explainFailure(run: PipelineRun): string {
  if (run.status !== RunStatus.FAILED || run.failureCause === FailureCause.CANCELLED) return "";
  const attempts = run.attempts;
  let text = `failed: ${cause(run.failureCause)} after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
  text += run.statusReason ? `: ${run.statusReason}\n` : "\n";
  const details = [...run.attemptDetails].sort((a, b) => a.index - b.index);
  for (const attempt of details) {
    text += `  attempt ${attempt.index + 1}: ${cause(attempt.failureCause)}, `;
    text += attempt.exitCode === undefined ? "no exit code" : `exit code ${attempt.exitCode}`;
    const why = attempt.containerReason || attempt.statusReason;
    if (why) text += `: ${why}`;
    if (attempt.logStreamName) text += ` (log stream ${attempt.logStreamName})`;
    text += "\n";
  }
  for (const warning of run.warnings) text += `  advice: ${warning}\n`;
  return text;
}
