using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Polysync.Platform.V1;

namespace Polysync.Platform.Client;

/// <summary>What a watch decides, without I/O: what to yield, when it is done, when to reconnect.</summary>
internal sealed class WatchState
{
    private readonly ReconnectPolicy _policy;
    private readonly bool _retryUnauthenticated;
    private readonly Func<double>? _random;
    private readonly List<string> _pending;
    private readonly Dictionary<string, string> _last = new();
    private bool _unauthenticatedRetried;

    public WatchState(IEnumerable<string> runIds, ReconnectPolicy policy, bool retryUnauthenticated,
        Func<double>? random = null)
    {
        _pending = runIds.Distinct().ToList();
        _policy = policy;
        _retryUnauthenticated = retryUnauthenticated;
        _random = random;
    }

    public bool Done => _pending.Count == 0;

    public IReadOnlyList<string> Pending => _pending.ToList();

    /// <summary>Consecutive reconnects without a message.</summary>
    public int Reconnects { get; private set; }

    /// <summary>
    /// What makes two states of a run the same: the server's key (native status, reason, exit
    /// code, array status counts; the array size never changes alone) and StaleSince
    /// (clients/watch-policy.json).
    /// </summary>
    public static string StateKey(PipelineRun run, Timestamp? staleSince = null)
    {
        var counts = run.Array is null
            ? ""
            : string.Join(",", run.Array.StatusCounts.OrderBy(c => c.Key, StringComparer.Ordinal)
                .Select(c => $"{c.Key}={c.Value}"));
        var exitCode = run.HasExitCode ? run.ExitCode.ToString() : "none";
        var stale = staleSince is null ? "current" : $"{staleSince.Seconds}.{staleSince.Nanos}";
        return $"{run.NativeStatus}\n{run.StatusReason}\n{exitCode}\n{counts}\n{stale}";
    }

    /// <summary>The event to yield for a received message, or null to suppress it.</summary>
    public RunEvent? OnMessage(PipelineRun run, bool heartbeat, Timestamp? staleSince)
    {
        Received();
        if (run.Terminal)
        {
            _pending.Remove(run.RunId);
        }
        var key = StateKey(run, staleSince);
        if (!heartbeat && _last.TryGetValue(run.RunId, out var previous) && previous == key)
        {
            return null;
        }
        _last[run.RunId] = key; // heartbeats are never suppressed; their state counts as seen
        return new RunEvent(run, staleSince?.ToDateTimeOffset(), heartbeat);
    }

    /// <summary>A message arrived: the reconnect count (and the Unauthenticated retry) starts over.</summary>
    public void Received()
    {
        Reconnects = 0;
        _unauthenticatedRetried = false;
    }

    /// <summary>
    /// The stream ended OK before every run was terminal: the wait before reconnecting, or null
    /// when the budget is spent (then throw a <see cref="StreamEndedEarlyException"/>).
    /// </summary>
    public TimeSpan? OnCleanEnd() => Reconnect();

    /// <summary>The stream sent nothing for the idle timeout: the wait before reconnecting, or null when the budget is spent.</summary>
    public TimeSpan? OnIdle() => Reconnect();

    /// <summary>The wait before reconnecting after <paramref name="error"/>, or null to throw it.</summary>
    public TimeSpan? OnError(RpcException error)
    {
        bool retried;
        switch (error.StatusCode)
        {
            case StatusCode.Unavailable:
                retried = true;
                break;
            case StatusCode.ResourceExhausted:
                retried = Errors.Reason(error) == Reasons.AwsThrottled;
                break;
            case StatusCode.Unauthenticated:
                retried = _retryUnauthenticated && !_unauthenticatedRetried;
                _unauthenticatedRetried = true;
                break;
            default:
                retried = false;
                break;
        }
        return retried ? Reconnect() : null;
    }

    private TimeSpan? Reconnect()
    {
        if (Reconnects >= _policy.MaxReconnects)
        {
            return null;
        }
        Reconnects++;
        return _policy.Backoff(Reconnects, _random);
    }
}
