package platformclient

import (
	"context"
	"errors"
	"io"
	"sort"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// FeedEventKind says what a [FeedEvent] is.
type FeedEventKind string

const (
	// FeedChange: Run changed (Version and Time are the change's). Version 0 marks a run read
	// with BatchGetPipelineRuns at the end of a relist's snapshot (see FeedRelist; or of the
	// first snapshot, for a [WithInFlight] run): its version in the new history is unknown, any
	// later change of it has a higher one.
	FeedChange FeedEventKind = "change"
	// FeedGone: a run handed out earlier (or given with [WithInFlight]), not terminal then, that
	// neither AWS Batch nor the server's history knows any more (read at the end of a snapshot):
	// how it ended is unknown. Run carries only its RunId.
	FeedGone FeedEventKind = "gone"
	// FeedSnapshotComplete: every non-terminal run has been handed out; changes follow.
	FeedSnapshotComplete FeedEventKind = "snapshot_complete"
	// FeedHeartbeat: nothing changed; Cursor is a fresh bookmark.
	FeedHeartbeat FeedEventKind = "heartbeat"
	// FeedRelist: the cursor expired (Err says why): a fresh snapshot follows, with versions
	// numbered anew, so reconcile what you derived from earlier changes against it. Before its
	// FeedSnapshotComplete the helper re-reads the runs it handed out in flight that the snapshot
	// does not list (they ended, or AWS forgot them, while it could not follow): each comes as a
	// FeedChange of version 0 (how it is now, e.g. how it ended) or as FeedGone.
	FeedRelist FeedEventKind = "relist"
)

// FeedEvent is one thing [FollowChanges] hands its callback.
type FeedEvent struct {
	Kind FeedEventKind
	// Run is the run's state after the change (FeedChange; FeedGone: only its RunId).
	Run *platformv1.PipelineRun
	// Version increases with every change of the run (FeedChange only).
	Version int64
	// Time is when the change happened (FeedChange only; zero when the server sent none).
	Time time.Time
	// StaleSince is set (non-zero) while the server cannot poll AWS.
	StaleSince time.Time
	// Cursor is the resume point to store after handling this event: following again from it
	// ([WithCursor]) loses nothing; "" means start with a snapshot.
	Cursor string
	// Err is the CURSOR_EXPIRED error of a FeedRelist.
	Err error
}

// Stale reports whether the state may be out of date (StaleSince is set).
func (e FeedEvent) Stale() bool { return !e.StaleSince.IsZero() }

// ErrFeedEnded is why [FollowChanges] reconnects after a stream that ended cleanly (the server
// ends its streams so when it stops); the feed itself has no end.
var ErrFeedEnded = errors.New("platformclient: changes feed stream ended")

// WithCursor makes [FollowChanges] start after this cursor (from a [FeedEvent] of an earlier
// run of the program); without one it starts with a snapshot of the non-terminal runs.
func WithCursor(cursor string) Option { return func(c *config) { c.cursor = cursor } }

// WithTags makes [FollowChanges] follow only the runs whose tags include all of these.
func WithTags(tags map[string]string) Option { return func(c *config) { c.tags = tags } }

// WithInFlight makes [FollowChanges] start with these runs in flight, as if it had handed them
// out (in this order, before any it hands out): after a restart of your program, pass the runs
// your own store says have not ended, so that the next snapshot's end (the first one without
// [WithCursor]; with it, a relist's) reads those it does not list and reports how they ended,
// as a FeedChange of version 0 or FeedGone. Empty ids are ignored; several calls add up.
func WithInFlight(runIDs ...string) Option {
	return func(c *config) { c.inFlight = append(c.inFlight, runIDs...) }
}

// FollowChanges follows every change of every run of the platform (the default one, or
// [WithPlatform]'s) with WatchRunChanges (SPEC §12), as a Kubernetes informer follows a
// resource, and calls fn with each [FeedEvent] in order. It returns only with an error: the
// feed has no end.
//
// Without [WithCursor] it asks first for a snapshot of the non-terminal runs; the snapshot's
// events carry no cursor ("") until its FeedSnapshotComplete, and a stream that ends before it
// is followed by a new snapshot (a cursor cannot resume the rest of a snapshot). At the end of a
// snapshot, the runs handed out earlier (and [WithInFlight]'s) and not yet terminal that it does
// not list (after a relist: runs that ended, or that AWS forgot, meanwhile) are read with
// BatchGetPipelineRuns (at most 1000 a call; an error is handled as the stream's error, and the
// next snapshot reads them again) and handed out as FeedChange of version 0 or FeedGone, before
// FeedSnapshotComplete. On any disconnect after the snapshot
// it resumes from the last cursor received, following the watch helpers' reconnect policy
// (docs/clients.md: UNAVAILABLE, AWS_THROTTLED, [WithFreshTokenRetry]'s one UNAUTHENTICATED,
// [WithIdleTimeout], [WithBackoff], [WithMaxReconnects], [WithOnReconnect]), except that a clean
// end always reconnects. On FAILED_PRECONDITION with reason CURSOR_EXPIRED it relists at once: a
// FeedRelist event, then a fresh snapshot (a second CURSOR_EXPIRED before any message is
// returned). A change whose version is not above the last one handed out for its run is
// dropped. Each event's Cursor is the one to store after handling it (clients/feed-policy.json).
//
// An error returned by fn is returned ([ErrStop] stops without one); when ctx is done it
// returns ctx.Err(). Any other error (INVALID_ARGUMENT for a malformed cursor,
// TOO_MANY_STREAMS, PERMISSION_DENIED, ...) is returned as it is.
func FollowChanges(ctx context.Context, client platformv1.PlatformServiceClient,
	fn func(FeedEvent) error, opts ...Option) error {
	cfg := newConfig(opts)
	f := feedState{cursor: cfg.cursor, versions: map[string]int64{}, inFlight: map[string]uint64{}}
	for _, id := range cfg.inFlight { // the caller's: in flight before any run handed out
		if id != "" {
			f.track(id)
		}
	}
	r := retrier{cfg: &cfg}
	unauthRetried := false
	relisting := false
	handOut := func(events []FeedEvent) error {
		for _, ev := range events {
			if err := fn(ev); err != nil {
				return errFn{err}
			}
		}
		return nil
	}
	for {
		err := followOnce(ctx, &cfg, client, f.request(&cfg), func(m *platformv1.WatchRunChangesResponse) error {
			r.received()
			unauthRetried, relisting = false, false
			events, completes := f.events(m)
			if err := handOut(events); err != nil || !completes {
				return err
			}
			for _, ids := range f.toRead() {
				answer, err := client.BatchGetPipelineRuns(ctx,
					&platformv1.BatchGetPipelineRunsRequest{Platform: cfg.platform, RunIds: ids})
				if err != nil {
					return err // as the stream's error: the snapshot is not complete
				}
				if err := handOut(f.read(answer)); err != nil {
					return err
				}
			}
			return handOut(f.complete())
		})
		var fe errFn
		if errors.As(err, &fe) {
			return callerResult(fe.err)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if status.Code(err) == codes.FailedPrecondition && Reason(err) == ReasonCursorExpired {
			if relisting {
				return err
			}
			relisting = true
			f.cursor = "" // a snapshot, which forgets the versions seen: a new history numbers them anew
			if err := fn(FeedEvent{Kind: FeedRelist, Err: err}); err != nil {
				return callerResult(err)
			}
			continue // at once: no backoff, not a reconnect
		}
		if !reconnectable(err, &cfg, &unauthRetried) {
			return err
		}
		if err == nil {
			err = ErrFeedEnded
		}
		if giveUp := r.wait(ctx, err); giveUp != nil {
			return giveUp
		}
	}
}

// feedBatchMax is the most run ids one BatchGetPipelineRuns call takes (SPEC §2).
const feedBatchMax = 1000

// feedState is what FollowChanges remembers between messages and streams.
type feedState struct {
	cursor   string           // the last cursor received ("" until a snapshot completes)
	versions map[string]int64 // run id → the last version handed out
	// inFlight: the runs handed out whose latest state is not terminal, each with the order it
	// was first handed out in (the caller's [WithInFlight] runs first, in the order given).
	inFlight map[string]uint64
	nextSeq  uint64
	listed   map[string]bool // during a snapshot: the runs it listed; nil otherwise
	// completing is the message that completes a snapshot, while its reads are made.
	completing *platformv1.WatchRunChangesResponse
}

// request is the next stream's request: from the last cursor, or, without one, a snapshot,
// which forgets the versions seen (those of another history mean nothing to it).
func (f *feedState) request(cfg *config) *platformv1.WatchRunChangesRequest {
	snapshot := f.cursor == ""
	f.listed, f.completing = nil, nil
	if snapshot {
		f.listed, f.versions = map[string]bool{}, map[string]int64{}
	}
	return &platformv1.WatchRunChangesRequest{Platform: cfg.platform, Cursor: f.cursor, Snapshot: snapshot, Tags: cfg.tags}
}

// events are the events to hand out for a message: changes not handed out before, then
// snapshot_complete or heartbeat; the last carries the message's cursor, the earlier ones the
// cursor before the message (resuming from the message's own would skip the rest of it).
// During a snapshot every event carries the cursor before it (""): its cursors count only
// from its end. For a message that completes a snapshot (completes), only its changes: the
// caller then reads [feedState.toRead] ([feedState.read]) and hands out [feedState.complete].
func (f *feedState) events(m *platformv1.WatchRunChangesResponse) (out []FeedEvent, completes bool) {
	before := f.cursor
	var stale time.Time
	if m.GetStaleSince() != nil {
		stale = m.GetStaleSince().AsTime()
	}
	for _, c := range m.GetChanges() {
		id := c.GetRun().GetRunId()
		if f.listed != nil {
			f.listed[id] = true
		}
		if last, seen := f.versions[id]; seen && c.GetVersion() <= last {
			continue // delivered again after a resume (at least once): already handed out
		}
		f.handOut(c.GetRun(), c.GetVersion())
		ev := FeedEvent{Kind: FeedChange, Run: c.GetRun(), Version: c.GetVersion(), StaleSince: stale, Cursor: before}
		if c.GetTime() != nil {
			ev.Time = c.GetTime().AsTime()
		}
		out = append(out, ev)
	}
	if f.listed != nil {
		if m.GetSnapshotComplete() {
			f.completing = m
			return out, true
		}
		return append(out, rest(m, before, stale)...), false
	}
	if m.GetCursor() != "" {
		f.cursor = m.GetCursor()
	}
	out = append(out, rest(m, before, stale)...)
	if len(out) > 0 {
		out[len(out)-1].Cursor = f.cursor
	}
	return out, false
}

// rest are a message's snapshot_complete and heartbeat events, with the cursor before it.
func rest(m *platformv1.WatchRunChangesResponse, before string, stale time.Time) []FeedEvent {
	var out []FeedEvent
	if m.GetSnapshotComplete() {
		out = append(out, FeedEvent{Kind: FeedSnapshotComplete, StaleSince: stale, Cursor: before})
	}
	if m.GetHeartbeat() {
		out = append(out, FeedEvent{Kind: FeedHeartbeat, StaleSince: stale, Cursor: before})
	}
	return out
}

// toRead are the runs in flight that the completing snapshot did not list, in the order first
// handed out, in calls of BatchGetPipelineRuns.
func (f *feedState) toRead() [][]string {
	var ids []string
	for id := range f.inFlight {
		if !f.listed[id] {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return f.inFlight[ids[i]] < f.inFlight[ids[j]] })
	var calls [][]string
	for len(ids) > 0 {
		n := min(len(ids), feedBatchMax)
		calls, ids = append(calls, ids[:n]), ids[n:]
	}
	return calls
}

// read hands out one answer of BatchGetPipelineRuns: each run as a change of version 0 (its
// version in this history is unknown: any later change has a higher one), each missing run as
// gone.
func (f *feedState) read(answer *platformv1.BatchGetPipelineRunsResponse) []FeedEvent {
	var stale time.Time
	if f.completing.GetStaleSince() != nil {
		stale = f.completing.GetStaleSince().AsTime()
	}
	var out []FeedEvent
	for _, run := range answer.GetRuns() {
		f.handOut(run, 0)
		out = append(out, FeedEvent{Kind: FeedChange, Run: run, StaleSince: stale, Cursor: f.cursor})
	}
	for _, id := range answer.GetMissingRunIds() {
		delete(f.inFlight, id)
		out = append(out, FeedEvent{Kind: FeedGone, Run: &platformv1.PipelineRun{RunId: id}, StaleSince: stale,
			Cursor: f.cursor})
	}
	return out
}

// complete ends the snapshot: the completing message's snapshot_complete (and heartbeat) event,
// which carries its cursor, now the one to resume from.
func (f *feedState) complete() []FeedEvent {
	m := f.completing
	f.completing, f.listed = nil, nil
	before := f.cursor
	if m.GetCursor() != "" {
		f.cursor = m.GetCursor()
	}
	var stale time.Time
	if m.GetStaleSince() != nil {
		stale = m.GetStaleSince().AsTime()
	}
	out := rest(m, before, stale)
	out[len(out)-1].Cursor = f.cursor
	return out
}

// handOut records a run handed out: its version, and whether it is still in flight.
func (f *feedState) handOut(run *platformv1.PipelineRun, version int64) {
	id := run.GetRunId()
	f.versions[id] = version
	if run.GetTerminal() {
		delete(f.inFlight, id)
	} else {
		f.track(id)
	}
}

// track puts a run in flight, after those already in flight (one already in keeps its place).
func (f *feedState) track(id string) {
	if _, ok := f.inFlight[id]; !ok {
		f.inFlight[id] = f.nextSeq
		f.nextSeq++
	}
}

// followOnce runs one WatchRunChanges stream until it ends or handle fails; nil for a clean end.
func followOnce(ctx context.Context, cfg *config, client platformv1.PlatformServiceClient,
	req *platformv1.WatchRunChangesRequest, handle func(*platformv1.WatchRunChangesResponse) error) error {
	streamCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := startIdleGuard(cfg.idleTimeout, cancel)
	defer idle.stop()
	stream, err := client.WatchRunChanges(streamCtx, req)
	if err != nil {
		return streamErr(streamCtx, err)
	}
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return streamErr(streamCtx, err)
		}
		idle.pause()
		if err := handle(m); err != nil {
			return err
		}
		idle.resume()
	}
}
