package io.polysync.platform.client;

import io.grpc.Context;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The idle timeout of a watch or feed (off when the timeout is null): cancels the open stream when
 * it has sent nothing that long, and remembers that it did, so the helper reconnects instead of
 * ending. One daemon thread serves every helper.
 */
final class IdleTimer {
  private static final ScheduledThreadPoolExecutor TIMERS = timers();

  private final Duration timeout;
  private Context.CancellableContext stream;
  private ScheduledFuture<?> timer;
  private volatile boolean expired;

  IdleTimer(Duration timeout) {
    this.timeout = timeout;
  }

  private static ScheduledThreadPoolExecutor timers() {
    ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, task -> {
      Thread thread = new Thread(task, "polysync-idle");
      thread.setDaemon(true);
      return thread;
    });
    timers.setRemoveOnCancelPolicy(true);
    return timers;
  }

  Duration timeout() {
    return timeout;
  }

  /** A new stream opens in this context: nothing has expired yet, and the clock starts. */
  void start(Context.CancellableContext stream) {
    this.stream = stream;
    expired = false;
    arm();
  }

  /** The stream sent something: the clock starts over. */
  void arm() {
    if (timeout == null) {
      return;
    }
    stop();
    Context.CancellableContext cancelled = stream;
    timer = TIMERS.schedule(() -> {
      expired = true;
      cancelled.cancel(null);
    }, timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  void stop() {
    ScheduledFuture<?> running = timer;
    if (running != null) {
      running.cancel(false);
    }
  }

  /** Whether the timer, not the server, ended the last stream. */
  boolean expired() {
    return expired;
  }
}
