package io.polysync.platform.client.examples;

import io.polysync.platform.client.ChangeFeed;
import io.polysync.platform.client.FeedEvent;
import io.polysync.platform.client.PlatformClient;
import io.polysync.platform.client.Runs;
import io.polysync.platform.v1.ExecutePipelineRequest;
import io.polysync.platform.v1.PipelineRun;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Why a run failed, in words; then every run's changes (the §12 feed), resumed from a cursor. */
public final class FollowAndExplain {
  public static void run(PlatformClient client) {
    // Submit and wait (the demo plays out-of-memory); a failed run says why: cause, attempts, advice.
    PipelineRun failed = client.execute(ExecutePipelineRequest.newBuilder().setPipeline("hello")
        .putParameters("failure", "oom").build(), Duration.ofMinutes(5));
    System.out.println(failed.getFailureCause() + " after " + failed.getAttempts() + " attempt(s)");
    System.out.print(Runs.explainFailure(failed));

    // The feed: a snapshot of the runs in flight first; store each event's cursor once handled.
    String cursor = "";
    try (ChangeFeed feed = client.followChanges(cursor)) {
      for (FeedEvent event : feed) {
        cursor = event.cursor();
        if (event.kind() == FeedEvent.Kind.SNAPSHOT_COMPLETE) {
          break;
        }
      }
    }
    String next = client.blockingStub().withDeadlineAfter(30, TimeUnit.SECONDS)
        .executePipeline(ExecutePipelineRequest.newBuilder().setPipeline("greet")
            .putParameters("name", "Ed").build()).getRun().getRunId();
    // Resumed from the stored cursor: every change since, each with the cursor to store next.
    try (ChangeFeed feed = client.followChanges(cursor)) {
      for (FeedEvent event : feed) {
        if (event.kind() != FeedEvent.Kind.CHANGE) {
          continue; // heartbeats move the cursor too
        }
        System.out.println(event.run().getRunId() + " v" + event.version() + " "
            + event.run().getNativeStatus() + " cursor=" + event.cursor());
        if (event.run().getRunId().equals(next) && event.run().getTerminal()) {
          break;
        }
      }
    }
  }
}
