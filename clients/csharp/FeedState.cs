using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Polysync.Platform.V1;

namespace Polysync.Platform.Client;

/// <summary>What <see cref="FeedEvent"/> is: a run's change, the end of a snapshot, a bookmark, a relist or a run gone.</summary>
public enum FeedEventKind
{
    /// <summary>
    /// A run changed: <see cref="FeedEvent.Run"/>, <see cref="FeedEvent.Version"/>, <see cref="FeedEvent.Time"/>.
    /// Version 0: a run read again after a relist (its version in the new history is unknown; any
    /// later change of it has a higher one).
    /// </summary>
    Change,

    /// <summary>
    /// Every non-terminal run was handed out (after a start or a relist without a cursor). Only here
    /// is the snapshot complete: its events before this one carry no cursor ("").
    /// </summary>
    SnapshotComplete,

    /// <summary>Nothing changed; the cursor is a fresher bookmark.</summary>
    Heartbeat,

    /// <summary>
    /// The server no longer knows the cursor (CURSOR_EXPIRED: it restarted without a history table,
    /// or the cursor is older than what it keeps): forget the versions you saw; a new snapshot
    /// follows. You need not read anything yourself: at the snapshot's end the helper reads the runs
    /// it had handed out, not terminal yet, that the snapshot does not list (they ended, or were
    /// forgotten, meanwhile) and hands each out as a <see cref="Change"/> of version 0 (how it
    /// ended) or as <see cref="Gone"/>.
    /// </summary>
    Relist,

    /// <summary>
    /// A run the helper had handed out, not terminal yet, that neither AWS Batch nor the server's
    /// history knows any more (read after a relist or a new snapshot): how it ended is unknown.
    /// <see cref="FeedEvent.Run"/> carries only its RunId. No more events of it follow.
    /// </summary>
    Gone,
}

/// <summary>
/// One event of <see cref="PlatformClient.FollowChangesAsync"/>. <see cref="Cursor"/> is the resume
/// point to store once the event is handled: passing it back loses nothing, even in the middle of
/// a message of many changes ("" means no cursor yet: resuming from it starts with a snapshot, as on
/// every event of a snapshot before its end).
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
/// stream, the events of a message, the runs to read again at a snapshot's end, when to relist;
/// reconnects are the watch helpers' own <see cref="WatchState"/> decisions.
/// </summary>
internal sealed class FeedState
{
    /// <summary>At most this many run ids in one BatchGetPipelineRuns call (its limit).</summary>
    public const int BatchGetLimit = 1000;

    private readonly WatchState _watch;
    private Dictionary<string, long> _versions = new();
    private bool _relisted; // a relist happened and no message arrived since
    // The runs handed out whose latest state is not terminal, each with the order it was first handed out in
    // (the caller's runs in flight, given to the constructor, first).
    private readonly Dictionary<string, long> _inFlight = new();
    private long _handedOut;
    private bool _snapshotting; // the open stream asked for a snapshot, not complete yet
    private HashSet<string> _listed = new(); // the run ids that snapshot listed
    private readonly Queue<List<string>> _reads = new(); // run ids to read before the snapshot is complete
    private WatchRunChangesResponse? _completing; // the snapshot_complete message waiting for those reads

    /// <summary>
    /// From <paramref name="cursor"/> ("" or null: a snapshot first), with <paramref name="inFlight"/>
    /// the run ids the caller knows to be in flight: in flight from the start, in the order given and
    /// before any run handed out, so the next snapshot's end reads those it does not list (empty ids
    /// are ignored; one given twice keeps its first place).
    /// </summary>
    public FeedState(string? cursor, IEnumerable<string>? inFlight, ReconnectPolicy policy, bool retryUnauthenticated,
        Func<double>? random = null)
    {
        Cursor = cursor ?? "";
        _watch = new WatchState(Array.Empty<string>(), policy, retryUnauthenticated, random);
        // In flight before any run is handed out, in the order given.
        foreach (var runId in inFlight ?? Array.Empty<string>())
        {
            if (!string.IsNullOrEmpty(runId))
            {
                Track(runId);
            }
        }
    }

    /// <summary>
    /// The last cursor received ("" before the first, right after a relist, and during a snapshot: a
    /// snapshot's cursors count only from its snapshot_complete message).
    /// </summary>
    public string Cursor { get; private set; }

    /// <summary>Consecutive reconnects without a message.</summary>
    public int Reconnects => _watch.Reconnects;

    /// <summary>
    /// The next stream's request: from the last cursor; a snapshot only when there is none (then
    /// the versions seen are forgotten, as a relist does: a snapshot starts anew, and what a
    /// snapshot left unread is read at the end of this one).
    /// </summary>
    public WatchRunChangesRequest Request(string platform, IReadOnlyDictionary<string, string>? tags)
    {
        var request = new WatchRunChangesRequest { Platform = platform, Cursor = Cursor, Snapshot = Cursor.Length == 0 };
        _reads.Clear();
        _completing = null;
        _snapshotting = request.Snapshot;
        if (request.Snapshot)
        {
            _versions = new Dictionary<string, long>();
            _listed = new HashSet<string>();
        }
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
    /// During a snapshot no cursor is taken before its snapshot_complete message (one from the middle
    /// of it names a point among the changes: resuming there would skip the rest of the snapshot),
    /// so its events carry the cursor from before it, "". At a snapshot's end with runs in flight
    /// that it did not list, only the changes are returned: read <see cref="NextRead"/> with
    /// BatchGetPipelineRuns and pass each answer to <see cref="OnRead"/>, then call <see cref="Complete"/>.
    /// </summary>
    public List<FeedEvent> OnMessage(WatchRunChangesResponse message)
    {
        _watch.Received();
        _relisted = false;
        var before = Cursor;
        var stale = At(message.StaleSince);
        var events = new List<FeedEvent>();
        foreach (var change in message.Changes)
        {
            var runId = change.Run?.RunId ?? "";
            if (_snapshotting)
            {
                _listed.Add(runId);
            }
            if (_versions.TryGetValue(runId, out var last) && change.Version <= last)
            {
                continue; // delivered again (at least once): drop it
            }
            _versions[runId] = change.Version;
            HandedOut(runId, change.Run);
            events.Add(new FeedEvent(FeedEventKind.Change, change.Run, change.Version, At(change.Time), stale, before));
        }
        if (_snapshotting && message.SnapshotComplete && ScheduleReads())
        {
            _completing = message;
            return events; // the rest once the runs are read: OnRead, then Complete
        }
        return Finish(message, before, events);
    }

    /// <summary>The message's end: its cursor taken (unless in the middle of a snapshot), the snapshot's end or the heartbeat.</summary>
    private List<FeedEvent> Finish(WatchRunChangesResponse message, string before, List<FeedEvent> events)
    {
        var stale = At(message.StaleSince);
        var taken = !_snapshotting || message.SnapshotComplete;
        if (taken)
        {
            if (message.Cursor.Length > 0) // a message without one keeps the last cursor
            {
                Cursor = message.Cursor;
            }
            _snapshotting = false;
        }
        if (message.SnapshotComplete)
        {
            events.Add(new FeedEvent(FeedEventKind.SnapshotComplete, null, 0, null, stale, before));
        }
        if (message.Heartbeat)
        {
            events.Add(new FeedEvent(FeedEventKind.Heartbeat, null, 0, null, stale, before));
        }
        if (taken && events.Count > 0)
        {
            events[^1] = events[^1] with { Cursor = Cursor };
        }
        return events;
    }

    /// <summary>A run handed out: in flight until its latest state is terminal.</summary>
    private void HandedOut(string runId, PipelineRun? run)
    {
        if (run is not null && run.Terminal)
        {
            _inFlight.Remove(runId);
        }
        else
        {
            Track(runId);
        }
    }

    /// <summary>A run in flight from now on, numbered in the order first handed out (one already in flight keeps its place).</summary>
    private void Track(string runId)
    {
        if (_inFlight.TryAdd(runId, _handedOut))
        {
            _handedOut++;
        }
    }

    /// <summary>The runs in flight that the snapshot did not list, in calls of at most BatchGetLimit, in the order first handed out; whether there are any.</summary>
    private bool ScheduleReads()
    {
        var unlisted = _inFlight.Where(run => !_listed.Contains(run.Key)).OrderBy(run => run.Value)
            .Select(run => run.Key).ToList();
        for (var from = 0; from < unlisted.Count; from += BatchGetLimit)
        {
            _reads.Enqueue(unlisted.GetRange(from, Math.Min(BatchGetLimit, unlisted.Count - from)));
        }
        return _reads.Count > 0;
    }

    /// <summary>The run ids of the next BatchGetPipelineRuns call before the snapshot is complete, or null when none is left.</summary>
    public IReadOnlyList<string>? NextRead() => _reads.Count > 0 ? _reads.Peek() : null;

    /// <summary>Whether a snapshot_complete message waits for <see cref="Complete"/> (its reads are done or under way).</summary>
    public bool Completing => _completing is not null;

    /// <summary>
    /// The answer of the <see cref="NextRead"/> call: each run found as a change of version 0 (its
    /// version in this history is unknown; any later change has a higher one), each missing id as a
    /// <see cref="FeedEventKind.Gone"/> event (it leaves the runs in flight). A failed call is the
    /// stream's error: the snapshot is not complete, the next stream is a new snapshot, and the runs
    /// not read yet are read at its end.
    /// </summary>
    public List<FeedEvent> OnRead(BatchGetPipelineRunsResponse answer)
    {
        _reads.Dequeue();
        var stale = At(_completing?.StaleSince);
        var events = new List<FeedEvent>();
        foreach (var run in answer.Runs)
        {
            _versions[run.RunId] = 0;
            HandedOut(run.RunId, run);
            events.Add(new FeedEvent(FeedEventKind.Change, run, 0, null, stale, Cursor));
        }
        foreach (var runId in answer.MissingRunIds)
        {
            _inFlight.Remove(runId);
            events.Add(new FeedEvent(FeedEventKind.Gone, new PipelineRun { RunId = runId }, 0, null, stale, Cursor));
        }
        return events;
    }

    /// <summary>Every run read: the snapshot_complete message's end (its cursor taken, the snapshot's end event).</summary>
    public List<FeedEvent> Complete()
    {
        var message = _completing ?? throw new InvalidOperationException("no snapshot waits to complete");
        _completing = null;
        return Finish(message, Cursor, new List<FeedEvent>());
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
