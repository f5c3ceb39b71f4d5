package io.polysync.platform.client;

import com.google.protobuf.Timestamp;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.polysync.platform.v1.BatchGetPipelineRunsRequest;
import io.polysync.platform.v1.BatchGetPipelineRunsResponse;
import io.polysync.platform.v1.PipelineRun;
import io.polysync.platform.v1.RunChange;
import io.polysync.platform.v1.WatchRunChangesRequest;
import io.polysync.platform.v1.WatchRunChangesResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The feed helper (SPEC §12, docs/clients.md "The feed helper"): follows WatchRunChanges as an
 * informer, an {@link Iterable} (for one pass) and {@link Iterator} of {@link FeedEvent}s that
 * blocks for the next one. Its behaviour is fixed by clients/feed-policy.json.
 *
 * <ul>
 *   <li>Without a cursor the feed starts with a snapshot of every non-terminal run, then a
 *       {@link FeedEvent.Kind#SNAPSHOT_COMPLETE} event. A snapshot is complete only there: its
 *       events before that one carry no cursor (""), and a stream that ends in the middle of it is
 *       followed by a new snapshot, not a resume.
 *   <li>On any disconnect (UNAVAILABLE, RESOURCE_EXHAUSTED / AWS_THROTTLED, a clean end, the idle
 *       timeout, once on UNAUTHENTICATED with a token supplier) it resumes from the last cursor
 *       received, after the {@link ReconnectPolicy}'s backoff and within its budget.
 *   <li>On FAILED_PRECONDITION / CURSOR_EXPIRED it relists at once (a {@link
 *       FeedEvent.Kind#RELIST} event, then a new snapshot); a second CURSOR_EXPIRED before any
 *       message is thrown.
 *   <li>At a snapshot's end, the runs it had handed out that were not terminal yet and that the
 *       snapshot does not list (they ended, or AWS forgot them, while it could not follow) are read
 *       with BatchGetPipelineRuns: each is handed out as a {@link FeedEvent.Kind#CHANGE} of version
 *       0, or as {@link FeedEvent.Kind#GONE} when the server no longer knows it; before the
 *       snapshot's end event. A failed read is handled as the stream's error. The runs the caller
 *       starts the feed with as in flight ({@link PlatformClient#followChanges(String, Map, String,
 *       Collection, Duration, RunWatch.ReconnectListener)}) count as handed out first.
 *   <li>A change whose version is not above the last one handed out for its run is dropped.
 *   <li>Every other error is thrown.
 * </ul>
 *
 * <p>It never ends by itself: close it (try-with-resources), which cancels the open call. Store
 * each event's {@link FeedEvent#cursor()} once handled, to resume after a restart of your own.
 * Not thread-safe: iterate from one thread; {@link #close()} may be called from any.
 */
public final class ChangeFeed implements Iterator<FeedEvent>, Iterable<FeedEvent>, AutoCloseable {

  /** At most this many run ids in one BatchGetPipelineRuns call (its limit). */
  static final int BATCH_GET_LIMIT = 1000;

  private final Function<WatchRunChangesRequest, Iterator<WatchRunChangesResponse>> opener;
  private final Function<BatchGetPipelineRunsRequest, BatchGetPipelineRunsResponse> reader;
  private final WatchRunChangesRequest base;
  private final WatchState state;
  private final RunWatch.Sleeper sleeper;
  private final RunWatch.ReconnectListener listener;
  private final Deadline deadline;
  private final IdleTimer idle;
  private final Context.CancellableContext context = Context.current().withCancellation();
  private final ArrayDeque<FeedEvent> ready = new ArrayDeque<>();
  private Map<String, Long> versions = new HashMap<>();
  private String cursor;
  private boolean relisted; // a relist happened and no message arrived since
  // The runs handed out whose latest state is not terminal, in the order first handed out (after
  // the ones the caller started the feed with).
  private final Set<String> inFlight = new LinkedHashSet<>();
  private boolean snapshotting; // the open stream asked for a snapshot, not complete yet
  private Set<String> listed = new HashSet<>(); // the run ids that snapshot listed
  private StatusRuntimeException failed; // a failed read, to handle as the stream's error
  private Context.CancellableContext streamContext;
  private Iterator<WatchRunChangesResponse> current;
  private volatile boolean finished;

  ChangeFeed(Function<WatchRunChangesRequest, Iterator<WatchRunChangesResponse>> opener,
      Function<BatchGetPipelineRunsRequest, BatchGetPipelineRunsResponse> reader,
      WatchRunChangesRequest base, Collection<String> knownInFlight, WatchState state,
      RunWatch.Sleeper sleeper, RunWatch.ReconnectListener listener, Deadline deadline,
      Duration idleTimeout) {
    this.opener = opener;
    this.reader = reader;
    this.base = base;
    this.cursor = base.getCursor();
    this.state = state;
    this.sleeper = sleeper;
    this.listener = listener;
    this.deadline = deadline;
    this.idle = new IdleTimer(idleTimeout);
    // The caller's runs in flight come first, in its order, as if handed out before any other.
    for (String runId : knownInFlight) {
      if (runId != null && !runId.isEmpty()) {
        inFlight.add(runId);
      }
    }
  }

  /**
   * The last cursor received ("" before the first, right after a relist, and during a snapshot: a
   * snapshot's cursors count only from its snapshot_complete message).
   */
  public String cursor() {
    return cursor;
  }

  /** This feed itself: it can be iterated once (for-each), like a stream. */
  @Override
  public Iterator<FeedEvent> iterator() {
    return this;
  }

  @Override
  public boolean hasNext() {
    while (ready.isEmpty() && !finished) {
      try {
        advance();
      } catch (RuntimeException e) {
        close();
        throw e;
      }
    }
    return !ready.isEmpty();
  }

  @Override
  public FeedEvent next() {
    if (!hasNext()) {
      throw new NoSuchElementException("the feed has ended");
    }
    return ready.poll();
  }

  /** The remaining events as a Stream; closing the stream closes the feed. */
  public Stream<FeedEvent> stream() {
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED), false)
        .onClose(this::close);
  }

  /** Cancels the open call (if any) and ends the feed. */
  @Override
  public void close() {
    finished = true;
    idle.stop();
    context.cancel(null);
  }

  private static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  /** A run handed out: in flight until its latest state is terminal. */
  private void handedOut(PipelineRun run) {
    if (run.getTerminal()) {
      inFlight.remove(run.getRunId());
    } else {
      inFlight.add(run.getRunId());
    }
  }

  /**
   * The events of one message: changes not seen yet, then (at a snapshot's end) the runs in flight
   * it did not list, read again, then the snapshot's end or the heartbeat.
   */
  private void onMessage(WatchRunChangesResponse message) {
    state.received();
    relisted = false;
    String before = cursor; // "" during a snapshot
    boolean completes = snapshotting && message.getSnapshotComplete();
    Instant stale = message.hasStaleSince() ? instant(message.getStaleSince()) : null;
    List<FeedEvent> out = new ArrayList<>();
    for (RunChange change : message.getChangesList()) {
      String runId = change.getRun().getRunId();
      if (snapshotting) {
        listed.add(runId);
      }
      Long last = versions.get(runId);
      if (last != null && change.getVersion() <= last) {
        continue;
      }
      versions.put(runId, change.getVersion());
      handedOut(change.getRun());
      out.add(new FeedEvent(FeedEvent.Kind.CHANGE, change.getRun(), change.getVersion(),
          change.hasTime() ? instant(change.getTime()) : null, stale, before));
    }
    if (completes && !reread(out, stale, before)) {
      // A failed read: the snapshot is not complete, nor is its cursor taken; the stream ends here.
      idle.stop();
      streamContext.cancel(null);
      ready.addAll(out);
      return;
    }
    // A snapshot's cursors are taken only from its snapshot_complete message: one from the middle
    // of it names a point among the changes, and resuming there would skip the rest of the snapshot.
    if (!snapshotting || completes) {
      if (!message.getCursor().isEmpty()) { // a message without one keeps the last cursor
        cursor = message.getCursor();
      }
      snapshotting = false;
    }
    if (message.getSnapshotComplete()) {
      out.add(new FeedEvent(FeedEvent.Kind.SNAPSHOT_COMPLETE, null, 0, null, stale, before));
    }
    if (message.getHeartbeat()) {
      out.add(new FeedEvent(FeedEvent.Kind.HEARTBEAT, null, 0, null, stale, before));
    }
    // Only the message's last event carries its cursor: resuming from it skips nothing.
    if (!out.isEmpty()) {
      FeedEvent last = out.remove(out.size() - 1);
      out.add(new FeedEvent(last.kind(), last.run(), last.version(), last.time(), last.staleSince(), cursor));
    }
    ready.addAll(out);
  }

  /**
   * At a snapshot's end: reads the runs in flight that it did not list (at most {@link
   * #BATCH_GET_LIMIT} a call, in the order first handed out) and adds what became of each to
   * {@code out}: a change of version 0 (its version in this history is unknown; any later change
   * has a higher one), or a GONE event when the server no longer knows the run. False when a read
   * failed ({@link #failed} is set; the runs not read stay in flight, for the next snapshot).
   */
  private boolean reread(List<FeedEvent> out, Instant stale, String before) {
    List<String> unlisted = new ArrayList<>();
    for (String runId : inFlight) {
      if (!listed.contains(runId)) {
        unlisted.add(runId);
      }
    }
    if (unlisted.isEmpty()) {
      return true;
    }
    idle.stop(); // the reads are not the stream's silence (the feed's deadline still bounds them)
    for (int from = 0; from < unlisted.size(); from += BATCH_GET_LIMIT) {
      BatchGetPipelineRunsRequest request = BatchGetPipelineRunsRequest.newBuilder()
          .setPlatform(base.getPlatform())
          .addAllRunIds(unlisted.subList(from, Math.min(unlisted.size(), from + BATCH_GET_LIMIT)))
          .build();
      BatchGetPipelineRunsResponse answer;
      try {
        answer = streamContext.wrap(() -> reader.apply(request)).call();
      } catch (StatusRuntimeException e) {
        failed = e;
        return false;
      } catch (Exception e) {
        throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
      }
      for (PipelineRun run : answer.getRunsList()) {
        versions.put(run.getRunId(), 0L);
        handedOut(run);
        out.add(new FeedEvent(FeedEvent.Kind.CHANGE, run, 0, null, stale, before));
      }
      for (String runId : answer.getMissingRunIdsList()) {
        inFlight.remove(runId);
        out.add(new FeedEvent(FeedEvent.Kind.GONE, PipelineRun.newBuilder().setRunId(runId).build(), 0, null, stale,
            before));
      }
    }
    idle.arm();
    return true;
  }

  private void advance() {
    Duration delay;
    try {
      if (failed != null) { // a read at the snapshot's end failed: that stream's error
        StatusRuntimeException error = failed;
        failed = null;
        throw error;
      }
      if (current == null) {
        WatchRunChangesRequest request = base.toBuilder().setCursor(cursor)
            .setSnapshot(cursor.isEmpty()).build();
        if (request.getSnapshot()) { // a new snapshot: versions are numbered anew, as after a relist
          snapshotting = true;
          versions = new HashMap<>();
          listed = new HashSet<>();
        }
        streamContext = context.withCancellation();
        idle.start(streamContext);
        current = streamContext.wrap(() -> opener.apply(request)).call();
      }
      if (current.hasNext()) {
        WatchRunChangesResponse message = current.next();
        idle.arm();
        onMessage(message);
        return;
      }
      current = null;
      idle.stop();
      delay = state.reconnect(Status.UNAVAILABLE
          .withDescription("the feed stream ended (the feed has no end of its own)").asRuntimeException());
    } catch (StatusRuntimeException e) {
      current = null;
      idle.stop();
      if (streamContext != null) {
        streamContext.cancel(null); // the stream may still be open when a read failed
      }
      if (finished) { // closed from another thread: the cancellation is ours
        return;
      }
      if (!idle.expired() && e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION
          && Reasons.CURSOR_EXPIRED.equals(Errors.reason(e))) {
        if (relisted) {
          throw e;
        }
        // Relist: at once, not counted as a reconnect; a new history numbers versions anew.
        relisted = true;
        cursor = "";
        versions = new HashMap<>();
        ready.add(new FeedEvent(FeedEvent.Kind.RELIST, null, 0, null, null, ""));
        return;
      }
      delay = idle.expired() ? state.onIdle(idle.timeout()) : state.onError(e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    state.waitToReconnect("the feed's", delay, deadline, listener, sleeper);
  }
}
