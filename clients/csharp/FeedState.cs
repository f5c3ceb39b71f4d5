using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Polysync.Platform.V1;

namespace Polysync.Platform.Client;

/// <summary>What <see cref="FeedEvent"/> is: a run's change, the end of a snapshot, a bookmark or a relist.</summary>
public enum FeedEventKind
{
    /// <summary>A run changed: <see cref="FeedEvent.Run"/>, <see cref="FeedEvent.Version"/>, <see cref="FeedEvent.Time"/>.</summary>
    Change,

    /// <summary>Every non-terminal run was handed out (after a start or a relist without a cursor).</summary>
    SnapshotComplete,

    /// <summary>Nothing changed; the cursor is a fresher bookmark.</summary>
    Heartbeat,

    /// <summary>
    /// The server no longer knows the cursor (CURSOR_EXPIRED: it restarted without a history table,
    /// or the cursor is older than what it keeps); a new snapshot follows. Runs you knew that the
    /// snapshot does not list ended (or were forgotten) meanwhile: read them with GetPipelineRun.
    /// </summary>
    Relist,
}

/// <summary>
/// One event of <see cref="PlatformClient.FollowChangesAsync"/>. <see cref="Cursor"/> is the resume
/// point to store once the event is handled: passing it back loses nothing, even in the middle of
/// a message of many changes ("" means no cursor yet: resuming from it starts with a snapshot).
/// <see cref="StaleSince"/> is set while the server cannot poll AWS (changes may be missing or late).
/// </summary>
public sealed record FeedEvent(FeedEventKind Kind, PipelineRun? Run, long Version, DateTimeOffset? Time,
    DateTimeOffset? StaleSince, string Cursor)
{
    /// <summary>True while the feed may be out of date (<see cref="StaleSince"/> is set).</summary>
    public bool Stale => StaleSince is not null;
}

/// <summary>
/// What the feed helper decides, without I/O (clients/feed-policy.json): the request of the next
/// stream, the events of a message, when to relist; reconnects are the watch helpers' own
/// <see cref="WatchState"/> decisions.
/// </summary>
internal sealed class FeedState
{
    private readonly WatchState _watch;
    private Dictionary<string, long> _versions = new();
    private bool _relisted; // a relist happened and no message arrived since

    public FeedState(string? cursor, ReconnectPolicy policy, bool retryUnauthenticated, Func<double>? random = null)
    {
        Cursor = cursor ?? "";
        _watch = new WatchState(Array.Empty<string>(), policy, retryUnauthenticated, random);
    }

    /// <summary>The last cursor received ("" before the first, and right after a relist).</summary>
    public string Cursor { get; private set; }

    /// <summary>Consecutive reconnects without a message.</summary>
    public int Reconnects => _watch.Reconnects;

    /// <summary>The next stream's request: from the last cursor; a snapshot only when there is none.</summary>
    public WatchRunChangesRequest Request(string platform, IReadOnlyDictionary<string, string>? tags)
    {
        var request = new WatchRunChangesRequest { Platform = platform, Cursor = Cursor, Snapshot = Cursor.Length == 0 };
        if (tags is not null)
        {
            foreach (var (key, value) in tags)
            {
                request.Tags[key] = value;
            }
        }
        return request;
    }

    private static DateTimeOffset? At(Timestamp? t) => t?.ToDateTimeOffset();

    /// <summary>
    /// The events of a message: its changes not handed out yet (version above the last one of the
    /// run), then the snapshot's end or the heartbeat. Only the last carries the message's cursor;
    /// the others carry the cursor before the message, so resuming from any of them skips nothing.
    /// </summary>
    public List<FeedEvent> OnMessage(WatchRunChangesResponse message)
    {
        _watch.Received();
        _relisted = false;
        var before = Cursor;
        Cursor = message.Cursor;
        var stale = At(message.StaleSince);
        var events = new List<FeedEvent>();
        foreach (var change in message.Changes)
        {
            var runId = change.Run?.RunId ?? "";
            if (_versions.TryGetValue(runId, out var last) && change.Version <= last)
            {
                continue; // delivered again (at least once): drop it
            }
            _versions[runId] = change.Version;
            events.Add(new FeedEvent(FeedEventKind.Change, change.Run, change.Version, At(change.Time), stale, before));
        }
        if (message.SnapshotComplete)
        {
            events.Add(new FeedEvent(FeedEventKind.SnapshotComplete, null, 0, null, stale, before));
        }
        if (message.Heartbeat)
        {
            events.Add(new FeedEvent(FeedEventKind.Heartbeat, null, 0, null, stale, before));
        }
        if (events.Count > 0)
        {
            events[^1] = events[^1] with { Cursor = message.Cursor };
        }
        return events;
    }

    /// <summary>Whether <paramref name="error"/> says the cursor is unknown: relist.</summary>
    public static bool IsCursorExpired(RpcException error) =>
        error.StatusCode == StatusCode.FailedPrecondition && Errors.Reason(error) == Reasons.CursorExpired;

    /// <summary>
    /// CURSOR_EXPIRED: the relist event (at once, no backoff, not a reconnect; every version seen
    /// is forgotten, as a new history numbers them anew), or null when a relist already happened
    /// without a message since (then the error is thrown).
    /// </summary>
    public FeedEvent? OnCursorExpired()
    {
        if (_relisted)
        {
            return null;
        }
        _relisted = true;
        Cursor = "";
        _versions = new Dictionary<string, long>();
        return new FeedEvent(FeedEventKind.Relist, null, 0, null, null, "");
    }

    /// <summary>The wait before reconnecting after <paramref name="error"/> (the watch policy's codes), or null to throw it.</summary>
    public TimeSpan? OnError(RpcException error) => _watch.OnError(error);

    /// <summary>A clean end always reconnects (the feed has no end of its own), or null when the budget is spent.</summary>
    public TimeSpan? OnCleanEnd() => _watch.OnCleanEnd();

    /// <summary>The stream sent nothing for the idle timeout: the wait before reconnecting, or null when the budget is spent.</summary>
    public TimeSpan? OnIdle() => _watch.OnIdle();
}
