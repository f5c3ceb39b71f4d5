namespace Polysync.Platform.Client;

/// <summary>
/// The one reconnect policy of every Polysync client helper (the same in Go, TypeScript, Python
/// and Java).
/// <list type="bullet">
/// <item>Reconnect on Unavailable (which includes <see cref="Reasons.ServerShuttingDown"/>), on
/// ResourceExhausted with reason <see cref="Reasons.AwsThrottled"/>, and when a stream ends
/// cleanly before every watched run is terminal; with a token source, also once on
/// Unauthenticated (the next call carries a fresh token). Everything else is thrown.</item>
/// <item>Before reconnect attempt n (1, 2, ...) wait min(15 s, 0.5 s × 2^(n−1)) × a uniform
/// jitter factor in [0.8, 1.2]; n starts again at 1 after any message.</item>
/// <item>At most 10 consecutive reconnects without a message, then the last error is thrown.</item>
/// <item>On resume the server sends the current state first; a state identical to the last one
/// yielded (native_status, status_reason, exit_code, array counts, stale_since) is not yielded
/// again; heartbeats always are.</item>
/// <item>A helper's timeout is a deadline across reconnects: a reconnect it leaves no time for is
/// neither made nor waited for (DeadlineExceeded). With an idle timeout, a silent stream is reopened.</item>
/// </list>
/// The same rules as data: clients/watch-policy.json (test.sh checks these numbers and codes against it).
/// </summary>
public sealed record ReconnectPolicy(TimeSpan InitialBackoff, TimeSpan MaxBackoff, double Jitter, int MaxReconnects)
{
    /// <summary>The documented policy: 0.5 s doubling up to 15 s, jitter 0.2, 10 reconnects.</summary>
    public static readonly ReconnectPolicy Default =
        new(TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(15), 0.2, 10);

    /// <summary>The wait before reconnect attempt <paramref name="attempt"/> (1, 2, ...).</summary>
    public TimeSpan Backoff(int attempt, Func<double>? random = null)
    {
        var uniform = random ?? Random.Shared.NextDouble;
        var baseSeconds = Math.Min(MaxBackoff.TotalSeconds,
            InitialBackoff.TotalSeconds * Math.Pow(2, Math.Max(0, attempt - 1)));
        return TimeSpan.FromSeconds(baseSeconds * (1 - Jitter + 2 * Jitter * uniform()));
    }
}

/// <summary>
/// One message of a watch: the run's state, <see cref="StaleSince"/> (set while the server
/// cannot poll AWS: the time since which <see cref="Run"/> may be out of date; null when
/// current) and whether it is a heartbeat (nothing changed; <see cref="Run"/> repeats the latest
/// state).
/// </summary>
public sealed record RunEvent(Polysync.Platform.V1.PipelineRun Run, DateTimeOffset? StaleSince, bool Heartbeat);

/// <summary>
/// A watch stream kept ending cleanly before the watched runs were terminal, until the reconnect
/// budget was spent.
/// </summary>
public sealed class StreamEndedEarlyException : Exception
{
    public StreamEndedEarlyException(string message) : base(message) { }
}
