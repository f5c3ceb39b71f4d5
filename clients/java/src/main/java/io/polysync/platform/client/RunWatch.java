package io.polysync.platform.client;

import com.google.protobuf.Timestamp;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.StatusRuntimeException;
import io.polysync.platform.v1.PipelineRun;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A watch of one run or many that follows the {@link ReconnectPolicy}: an {@link Iterable} (for
 * one pass: for-each works) and {@link Iterator} of {@link RunEvent}s that blocks for the next one
 * and ends after the terminal state of every watched run. Close it (try-with-resources) when
 * leaving early: that cancels the open call, so the server's stream ends at once.
 *
 * <pre>{@code
 * try (RunWatch watch = client.watchRun(runId, Duration.ofMinutes(30))) {
 *   for (RunEvent event : watch) {
 *     ...
 *   }
 * }
 * }</pre>
 *
 * <p>With a timeout, no reconnect is made (or reported) that the deadline leaves no time for: the
 * watch throws DEADLINE_EXCEEDED. With an idle timeout, a stream that sends nothing that long is
 * cancelled and reopened like a failed one.
 *
 * <p>Not thread-safe: iterate from one thread; {@link #close()} may be called from any.
 */
public final class RunWatch implements Iterator<RunEvent>, Iterable<RunEvent>, AutoCloseable {
  /** Observes each reconnect: attempt n (1, 2, ...), the wait before it, and why. */
  @FunctionalInterface
  public interface ReconnectListener {
    void onReconnect(int attempt, Duration delay, RuntimeException cause);
  }

  /** Waits before a reconnect; replaced in tests. */
  @FunctionalInterface
  interface Sleeper {
    void sleep(Duration delay) throws InterruptedException;
  }

  /** A received message, from WatchPipelineRunResponse or WatchPipelineRunsResponse. */
  record Message(PipelineRun run, boolean heartbeat, Timestamp staleSince, boolean stale) {}


  private final Function<List<String>, Iterator<Message>> opener;
  private final WatchState state;
  private final Sleeper sleeper;
  private final ReconnectListener listener;
  private final Deadline deadline;
  private final IdleTimer idle;
  private final Context.CancellableContext context = Context.current().withCancellation();
  private Context.CancellableContext streamContext;
  private Iterator<Message> current;
  private RunEvent next;
  private volatile boolean finished;

  RunWatch(Function<List<String>, Iterator<Message>> opener, WatchState state, Sleeper sleeper,
      ReconnectListener listener) {
    this(opener, state, sleeper, listener, null, null);
  }

  RunWatch(Function<List<String>, Iterator<Message>> opener, WatchState state, Sleeper sleeper,
      ReconnectListener listener, Deadline deadline, Duration idleTimeout) {
    this.opener = opener;
    this.state = state;
    this.sleeper = sleeper;
    this.listener = listener;
    this.deadline = deadline;
    this.idle = new IdleTimer(idleTimeout);
  }

  /** This watch itself: it can be iterated once (for-each), like a stream. */
  @Override
  public Iterator<RunEvent> iterator() {
    return this;
  }

  @Override
  public boolean hasNext() {
    while (next == null && !finished) {
      try {
        advance();
      } catch (RuntimeException e) {
        close();
        throw e;
      }
    }
    return next != null;
  }

  @Override
  public RunEvent next() {
    if (!hasNext()) {
      throw new NoSuchElementException("the watch has ended");
    }
    RunEvent event = next;
    next = null;
    return event;
  }

  /** The remaining events as a Stream; closing the stream closes the watch. */
  public Stream<RunEvent> stream() {
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED), false)
        .onClose(this::close);
  }

  /** Cancels the open call (if any) and ends the watch. */
  @Override
  public void close() {
    finished = true;
    idle.stop();
    context.cancel(null);
  }

  private void advance() {
    Duration delay;
    try {
      if (current == null) {
        List<String> pending = state.pending();
        streamContext = context.withCancellation();
        idle.start(streamContext);
        current = streamContext.wrap(() -> opener.apply(pending)).call();
      }
      if (current.hasNext()) {
        Message message = current.next();
        idle.arm();
        next = state.onMessage(message.run(), message.heartbeat(), message.staleSince(), message.stale());
        if (state.done()) {
          close();
        }
        return;
      }
      current = null;
      idle.stop();
      if (state.done()) {
        close();
        return;
      }
      delay = state.onCleanEnd();
    } catch (StatusRuntimeException e) {
      current = null;
      idle.stop();
      if (finished) { // closed from another thread: the cancellation is ours
        return;
      }
      delay = idle.expired() ? state.onIdle(idle.timeout()) : state.onError(e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    state.waitToReconnect("the watch's", delay, deadline, listener, sleeper);
  }
}
