package io.polysync.platform.client;

import com.google.protobuf.Timestamp;
import io.grpc.Context;
import io.grpc.Status;
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
 * A watch of one run or many that follows the {@link ReconnectPolicy}: an {@link Iterator} of
 * {@link RunEvent}s that blocks for the next one and ends after the terminal state of every
 * watched run. Close it (try-with-resources) when leaving early: that cancels the open call, so
 * the server's stream ends at once.
 *
 * <pre>{@code
 * try (RunWatch watch = client.watchRun(runId, Duration.ofMinutes(30))) {
 *   while (watch.hasNext()) {
 *     RunEvent event = watch.next();
 *     ...
 *   }
 * }
 * }</pre>
 *
 * <p>Not thread-safe: iterate from one thread; {@link #close()} may be called from any.
 */
public final class RunWatch implements Iterator<RunEvent>, AutoCloseable {
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
  private final Context.CancellableContext context = Context.current().withCancellation();
  private Iterator<Message> current;
  private RunEvent next;
  private volatile boolean finished;

  RunWatch(Function<List<String>, Iterator<Message>> opener, WatchState state, Sleeper sleeper,
      ReconnectListener listener) {
    this.opener = opener;
    this.state = state;
    this.sleeper = sleeper;
    this.listener = listener;
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
    context.cancel(null);
  }

  private void advance() {
    Duration delay;
    try {
      if (current == null) {
        List<String> pending = state.pending();
        current = context.wrap(() -> opener.apply(pending)).call();
      }
      if (current.hasNext()) {
        Message message = current.next();
        next = state.onMessage(message.run(), message.heartbeat(), message.staleSince(), message.stale());
        if (state.done()) {
          close();
        }
        return;
      }
      current = null;
      if (state.done()) {
        close();
        return;
      }
      delay = state.onCleanEnd();
    } catch (StatusRuntimeException e) {
      current = null;
      if (finished) { // closed from another thread: the cancellation is ours
        return;
      }
      delay = state.onError(e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    if (listener != null) {
      listener.onReconnect(state.reconnects(), delay, state.lastError());
    }
    try {
      sleeper.sleep(delay);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted while waiting to reconnect")
          .withCause(e).asRuntimeException();
    }
  }
}
