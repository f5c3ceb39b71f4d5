package io.polysync.platform.client;

import io.polysync.platform.v1.PipelineRun;
import java.time.Instant;
import java.util.Optional;

/**
 * One message of a watch.
 *
 * @param run the run's state (for a heartbeat, the latest state again)
 * @param staleSince set while the server cannot poll AWS: the time since which {@code run} may be
 *     out of date; {@code null} when the state is current
 * @param heartbeat true when nothing changed and the server only shows the stream is alive
 */
public record RunEvent(PipelineRun run, Instant staleSince, boolean heartbeat) {
  /** {@link #staleSince()} as an Optional. */
  public Optional<Instant> stale() {
    return Optional.ofNullable(staleSince);
  }
}
