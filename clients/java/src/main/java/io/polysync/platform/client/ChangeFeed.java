package io.polysync.platform.client;

import com.google.protobuf.Timestamp;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.polysync.platform.v1.RunChange;
import io.polysync.platform.v1.WatchRunChangesRequest;
import io.polysync.platform.v1.WatchRunChangesResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
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
 *       {@link FeedEvent.Kind#SNAPSHOT_COMPLETE} event.
 *   <li>On any disconnect (UNAVAILABLE, RESOURCE_EXHAUSTED / AWS_THROTTLED, a clean end, the idle
 *       timeout, once on UNAUTHENTICATED with a token supplier) it resumes from the last cursor
 *       received, after the {@link ReconnectPolicy}'s backoff and within its budget.
 *   <li>On FAILED_PRECONDITION / CURSOR_EXPIRED it relists at once (a {@link
 *       FeedEvent.Kind#RELIST} event, then a new snapshot); a second CURSOR_EXPIRED before any
 *       message is thrown.
 *   <li>A change whose version is not above the last one handed out for its run is dropped.
 *   <li>Every other error is thrown.
 * </ul>
 *
 * <p>It never ends by itself: close it (try-with-resources), which cancels the open call. Store
 * each event's {@link FeedEvent#cursor()} once handled, to resume after a restart of your own.
 * Not thread-safe: iterate from one thread; {@link #close()} may be called from any.
 */
public final class ChangeFeed implements Iterator<FeedEvent>, Iterable<FeedEvent>, AutoCloseable {

  private final Function<WatchRunChangesRequest, Iterator<WatchRunChangesResponse>> opener;
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
  private Context.CancellableContext streamContext;
  private Iterator<WatchRunChangesResponse> current;
  private volatile boolean finished;

  ChangeFeed(Function<WatchRunChangesRequest, Iterator<WatchRunChangesResponse>> opener,
      WatchRunChangesRequest base, WatchState state, RunWatch.Sleeper sleeper,
      RunWatch.ReconnectListener listener, Deadline deadline, Duration idleTimeout) {
    this.opener = opener;
    this.base = base;
    this.cursor = base.getCursor();
    this.state = state;
    this.sleeper = sleeper;
    this.listener = listener;
    this.deadline = deadline;
    this.idle = new IdleTimer(idleTimeout);
  }

  /** The last cursor received ("" before the first, and right after a relist). */
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

  /** The events of one message: changes not seen yet, then the snapshot's end or the heartbeat. */
  private void onMessage(WatchRunChangesResponse message) {
    state.received();
    relisted = false;
    String before = cursor;
    cursor = message.getCursor();
    Instant stale = message.hasStaleSince() ? instant(message.getStaleSince()) : null;
    List<FeedEvent> out = new ArrayList<>();
    for (RunChange change : message.getChangesList()) {
      String runId = change.getRun().getRunId();
      Long last = versions.get(runId);
      if (last != null && change.getVersion() <= last) {
        continue;
      }
      versions.put(runId, change.getVersion());
      out.add(new FeedEvent(FeedEvent.Kind.CHANGE, change.getRun(), change.getVersion(),
          change.hasTime() ? instant(change.getTime()) : null, stale, before));
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

  private void advance() {
    Duration delay;
    try {
      if (current == null) {
        WatchRunChangesRequest request = base.toBuilder().setCursor(cursor)
            .setSnapshot(cursor.isEmpty()).build();
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
