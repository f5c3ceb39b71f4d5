package io.polysync.platform.client;

import io.polysync.platform.v1.PipelineRun;
import java.time.Instant;

/**
 * One event of {@link PlatformClient#followChanges}: a run's change, the end of a snapshot, a
 * heartbeat (bookmark), a relist or a run gone, each with the cursor to store once it is handled.
 *
 * @param kind what happened
 * @param run the run's state after the change ({@link Kind#CHANGE}; for {@link Kind#GONE} only its
 *     run_id; null otherwise)
 * @param version the run's version ({@link Kind#CHANGE} only; 0 otherwise): it increases with
 *     every change of that run; 0 for a run read again after a relist (its version in the new
 *     history is unknown: any later change of it has a higher one)
 * @param time when the change happened: the AWS event's time, else when the server saw it
 *     ({@link Kind#CHANGE} only; null otherwise)
 * @param staleSince set while the server cannot poll AWS: the time since which changes may be
 *     missing or late; null when the feed is current
 * @param cursor the resume point to store once this event is handled: passing it back loses
 *     nothing, even in the middle of a message of many changes; "" means "no cursor yet" (resuming
 *     from it starts with a snapshot), as on every event of a snapshot before its end
 */
public record FeedEvent(Kind kind, PipelineRun run, long version, Instant time, Instant staleSince,
    String cursor) {
  /** What a feed event is. */
  public enum Kind {
    /** A run changed: {@link #run()}, {@link #version()}, {@link #time()}. */
    CHANGE,
    /** Every non-terminal run was handed out (after a start or a relist without a cursor). */
    SNAPSHOT_COMPLETE,
    /** Nothing changed; the cursor is a fresher bookmark. */
    HEARTBEAT,
    /**
     * The server no longer knows the cursor (CURSOR_EXPIRED: it restarted without a history
     * table, or the cursor is older than what it keeps): forget the versions you saw; a new
     * snapshot follows. You need not read anything yourself: at the snapshot's end the helper
     * reads the runs it had handed out, not terminal yet, that the snapshot does not list (they
     * ended, or were forgotten, meanwhile) and hands each out as a {@link #CHANGE} of version 0
     * (how it ended) or as {@link #GONE}.
     */
    RELIST,
    /**
     * A run the helper had handed out, not terminal yet, that neither AWS Batch nor the server's
     * history knows any more (read after a relist or a new snapshot): how it ended is unknown.
     * {@link #run()} carries only its run_id. No more events of it follow.
     */
    GONE
  }

  /** True while the feed may be out of date ({@link #staleSince()} is set). */
  public boolean stale() {
    return staleSince != null;
  }
}
