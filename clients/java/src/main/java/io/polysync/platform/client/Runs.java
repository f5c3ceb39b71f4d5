package io.polysync.platform.client;

import io.polysync.platform.v1.FailureCause;
import io.polysync.platform.v1.PipelineRun;
import io.polysync.platform.v1.RunAttempt;
import io.polysync.platform.v1.RunStatus;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Helpers that read a {@link PipelineRun} (docs/clients.md). */
public final class Runs {
  private static final String CAUSE_PREFIX = "FAILURE_CAUSE_";

  private Runs() {}

  /**
   * Why a run failed, in words (SPEC §13; the exact text is fixed by
   * clients/explain-failure.json): "failed: CAUSE after N attempt(s): REASON", then one line per
   * attempt ("  attempt I: CAUSE, exit code E: REASON (log stream S)") and one per warning ("
   * advice: ..."), each ending with a newline. "" for a run that did not fail (a cancelled run
   * included).
   */
  public static String explainFailure(PipelineRun run) {
    if (run.getStatus() != RunStatus.RUN_STATUS_FAILED
        || run.getFailureCause() == FailureCause.FAILURE_CAUSE_CANCELLED) {
      return "";
    }
    StringBuilder text = new StringBuilder("failed: ").append(cause(run.getFailureCause()))
        .append(" after ").append(run.getAttempts())
        .append(run.getAttempts() == 1 ? " attempt" : " attempts");
    if (!run.getStatusReason().isEmpty()) {
      text.append(": ").append(run.getStatusReason());
    }
    text.append('\n');
    List<RunAttempt> attempts = new ArrayList<>(run.getAttemptDetailsList());
    attempts.sort(Comparator.comparingInt(RunAttempt::getIndex));
    for (RunAttempt attempt : attempts) {
      text.append("  attempt ").append(attempt.getIndex() + 1).append(": ")
          .append(cause(attempt.getFailureCause())).append(", ")
          .append(attempt.hasExitCode() ? "exit code " + attempt.getExitCode() : "no exit code");
      String why = attempt.getContainerReason().isEmpty() ? attempt.getStatusReason()
          : attempt.getContainerReason();
      if (!why.isEmpty()) {
        text.append(": ").append(why);
      }
      if (!attempt.getLogStreamName().isEmpty()) {
        text.append(" (log stream ").append(attempt.getLogStreamName()).append(')');
      }
      text.append('\n');
    }
    for (String warning : run.getWarningsList()) {
      text.append("  advice: ").append(warning).append('\n');
    }
    return text.toString();
  }

  private static String cause(FailureCause cause) {
    String name = cause == FailureCause.UNRECOGNIZED ? "UNSPECIFIED" : cause.name();
    return name.startsWith(CAUSE_PREFIX) ? name.substring(CAUSE_PREFIX.length()) : name;
  }
}
