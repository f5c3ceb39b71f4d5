package io.polysync.platform.client;

import com.google.protobuf.Timestamp;
import io.grpc.Deadline;
import io.grpc.Status;
import io.polysync.platform.v1.PipelineRun;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/** What a watch decides, without I/O: what to deliver, when it is done, when to reconnect. */
final class WatchState {
  private final ReconnectPolicy policy;
  private final boolean retryUnauthenticated;
  private final DoubleSupplier random;
  private final LinkedHashSet<String> pending;
  private final Map<String, List<Object>> last = new HashMap<>();
  private int reconnects;
  private boolean unauthenticatedRetried;
  private RuntimeException lastError;

  WatchState(List<String> runIds, ReconnectPolicy policy, boolean retryUnauthenticated,
      DoubleSupplier random) {
    this.pending = new LinkedHashSet<>(runIds);
    this.policy = policy;
    this.retryUnauthenticated = retryUnauthenticated;
    this.random = random;
  }

  boolean done() {
    return pending.isEmpty();
  }

  List<String> pending() {
    return new ArrayList<>(pending);
  }

  int reconnects() {
    return reconnects;
  }

  RuntimeException lastError() {
    return lastError;
  }

  /**
   * What makes two states of a run the same: the server's key (native status, reason, exit code,
   * array status counts; the array size never changes alone) and staleSince
   * (clients/watch-policy.json).
   */
  static List<Object> stateKey(PipelineRun run) {
    return stateKey(run, null);
  }

  static List<Object> stateKey(PipelineRun run, Instant staleSince) {
    return List.of(run.getNativeStatus(), run.getStatusReason(),
        run.hasExitCode() ? run.getExitCode() : "none",
        new TreeMap<>(run.getArray().getStatusCountsMap()),
        staleSince == null ? "current" : staleSince);
  }

  /** A message arrived: the reconnect count (and the UNAUTHENTICATED retry) starts over. */
  void received() {
    reconnects = 0;
    unauthenticatedRetried = false;
  }

  /** The event to deliver for a received message, or null to suppress it. */
  RunEvent onMessage(PipelineRun run, boolean heartbeat, Timestamp staleSince, boolean stale) {
    received();
    if (run.getTerminal()) {
      pending.remove(run.getRunId());
    }
    Instant since = stale ? Instant.ofEpochSecond(staleSince.getSeconds(), staleSince.getNanos()) : null;
    List<Object> key = stateKey(run, since);
    if (!heartbeat && key.equals(last.get(run.getRunId()))) {
      return null;
    }
    last.put(run.getRunId(), key); // heartbeats are never suppressed; their state counts as seen
    return new RunEvent(run, since, heartbeat);
  }

  /** The stream ended OK before every run was terminal: the wait before reconnecting. */
  Duration onCleanEnd() {
    return reconnect(new StreamEndedEarlyException("the watch stream ended " + (reconnects + 1)
        + " times in a row before " + String.join(", ", pending) + " reached a terminal state"));
  }

  /** The stream sent nothing for the idle timeout: the wait before reconnecting. */
  Duration onIdle(Duration idleTimeout) {
    return reconnect(Status.UNAVAILABLE.withDescription("the watch stream sent nothing for "
        + idleTimeout.toMillis() + " ms (idle timeout)").asRuntimeException());
  }

  /** The wait before reconnecting after {@code error}; throws it when it is not retried. */
  Duration onError(RuntimeException error) {
    Status.Code code = Status.fromThrowable(error).getCode();
    boolean retried;
    if (code == Status.Code.UNAVAILABLE) {
      retried = true;
    } else if (code == Status.Code.RESOURCE_EXHAUSTED) {
      retried = Reasons.AWS_THROTTLED.equals(Errors.reason(error));
    } else if (code == Status.Code.UNAUTHENTICATED) {
      retried = retryUnauthenticated && !unauthenticatedRetried;
      unauthenticatedRetried = true;
    } else {
      retried = false;
    }
    if (!retried) {
      throw error;
    }
    return reconnect(error);
  }

  /** A stream ended with {@code error}, which is retried: the wait before reconnecting. */
  Duration reconnect(RuntimeException error) {
    lastError = error;
    if (reconnects >= policy.maxReconnects()) {
      throw error;
    }
    reconnects++;
    return policy.backoff(reconnects, random);
  }

  /**
   * Waits `delay` before the next stream, after telling the listener; DEADLINE_EXCEEDED when
   * the deadline leaves no time for it, CANCELLED when interrupted. `what` names the helper.
   */
  void waitToReconnect(String what, Duration delay, Deadline deadline,
      RunWatch.ReconnectListener listener, RunWatch.Sleeper sleeper) {
    if (deadline != null && deadline.timeRemaining(TimeUnit.NANOSECONDS) <= delay.toNanos()) {
      RuntimeException last = lastError();
      throw Status.DEADLINE_EXCEEDED.withDescription(what + " timeout passes before the next "
          + "reconnect (last error: " + (last == null ? "none" : last.getMessage()) + ")")
          .withCause(last).asRuntimeException();
    }
    if (listener != null) {
      listener.onReconnect(reconnects(), delay, lastError());
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
