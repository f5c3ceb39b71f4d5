package io.polysync.platform.client;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * The one reconnect policy of every Polysync client helper (the same in Go, TypeScript, Python and
 * C#).
 *
 * <ul>
 *   <li>Reconnect on UNAVAILABLE (which includes {@link Reasons#SERVER_SHUTTING_DOWN}), on
 *       RESOURCE_EXHAUSTED with reason {@link Reasons#AWS_THROTTLED}, and when a stream ends
 *       cleanly before every watched run is terminal; with a token supplier, also once on
 *       UNAUTHENTICATED (the next call carries a fresh token). Everything else is thrown.
 *   <li>Before reconnect attempt n (1, 2, ...) wait min(15 s, 0.5 s &times; 2^(n-1)) &times; a
 *       uniform jitter factor in [0.8, 1.2]; n starts again at 1 after any message.
 *   <li>At most 10 consecutive reconnects without a message, then the last error is thrown.
 *   <li>On resume the server sends the current state first; a state identical to the last one
 *       delivered (native_status, status_reason, exit_code, array counts) is not delivered again.
 * </ul>
 *
 * @param initialBackoff the wait before the first reconnect (before jitter)
 * @param maxBackoff the longest wait (before jitter)
 * @param jitter the jitter factor is uniform in [1 - jitter, 1 + jitter]
 * @param maxReconnects consecutive reconnects without a message before the last error is thrown
 */
public record ReconnectPolicy(
    Duration initialBackoff, Duration maxBackoff, double jitter, int maxReconnects) {
  /** The documented policy: 0.5 s doubling up to 15 s, jitter 0.2, 10 reconnects. */
  public static final ReconnectPolicy DEFAULT =
      new ReconnectPolicy(Duration.ofMillis(500), Duration.ofSeconds(15), 0.2, 10);

  /** The wait before reconnect attempt {@code attempt} (1, 2, ...). */
  public Duration backoff(int attempt) {
    return backoff(attempt, () -> ThreadLocalRandom.current().nextDouble());
  }

  /** As {@link #backoff(int)}, with {@code random} giving uniform values in [0, 1). */
  public Duration backoff(int attempt, DoubleSupplier random) {
    double base = Math.min(maxBackoff.toNanos(),
        initialBackoff.toNanos() * Math.pow(2, Math.max(0, attempt - 1)));
    double factor = 1 - jitter + 2 * jitter * random.getAsDouble();
    return Duration.ofNanos(Math.round(base * factor));
  }
}
