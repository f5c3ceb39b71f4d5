package platformclient

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// FeedEventKind says what a [FeedEvent] is.
type FeedEventKind string

const (
	// FeedChange: Run changed (Version and Time are the change's).
	FeedChange FeedEventKind = "change"
	// FeedSnapshotComplete: every non-terminal run has been handed out; changes follow.
	FeedSnapshotComplete FeedEventKind = "snapshot_complete"
	// FeedHeartbeat: nothing changed; Cursor is a fresh bookmark.
	FeedHeartbeat FeedEventKind = "heartbeat"
	// FeedRelist: the cursor expired (Err says why): forget what you know of the runs, a fresh
	// snapshot follows.
	FeedRelist FeedEventKind = "relist"
)

// FeedEvent is one thing [FollowChanges] hands its callback.
type FeedEvent struct {
	Kind FeedEventKind
	// Run is the run's state after the change (FeedChange only).
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

// FollowChanges follows every change of every run of the platform (the default one, or
// [WithPlatform]'s) with WatchRunChanges (SPEC §12), as a Kubernetes informer follows a
// resource, and calls fn with each [FeedEvent] in order. It returns only with an error: the
// feed has no end.
//
// Without [WithCursor] it asks first for a snapshot of the non-terminal runs. On any disconnect
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
	f := feedState{cursor: cfg.cursor, versions: map[string]int64{}}
	r := retrier{cfg: &cfg}
	unauthRetried := false
	relisting := false
	for {
		req := &platformv1.WatchRunChangesRequest{Platform: cfg.platform, Cursor: f.cursor, Snapshot: f.cursor == "",
			Tags: cfg.tags}
		err := followOnce(ctx, &cfg, client, req, func(m *platformv1.WatchRunChangesResponse) error {
			r.received()
			unauthRetried, relisting = false, false
			for _, ev := range f.events(m) {
				if err := fn(ev); err != nil {
					return errFn{err}
				}
			}
			return nil
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
			f.cursor, f.versions = "", map[string]int64{} // a new history numbers versions anew
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

// feedState is what FollowChanges remembers between messages and streams.
type feedState struct {
	cursor   string
	versions map[string]int64
}

// events are the events to hand out for a message: changes not handed out before, then
// snapshot_complete or heartbeat; the last carries the message's cursor, the earlier ones the
// cursor before the message (resuming from the message's own would skip the rest of it).
func (f *feedState) events(m *platformv1.WatchRunChangesResponse) []FeedEvent {
	before := f.cursor
	if m.GetCursor() != "" {
		f.cursor = m.GetCursor()
	}
	var stale time.Time
	if m.GetStaleSince() != nil {
		stale = m.GetStaleSince().AsTime()
	}
	var out []FeedEvent
	for _, c := range m.GetChanges() {
		id := c.GetRun().GetRunId()
		if last, seen := f.versions[id]; seen && c.GetVersion() <= last {
			continue // delivered again after a resume (at least once): already handed out
		}
		f.versions[id] = c.GetVersion()
		ev := FeedEvent{Kind: FeedChange, Run: c.GetRun(), Version: c.GetVersion(), StaleSince: stale}
		if c.GetTime() != nil {
			ev.Time = c.GetTime().AsTime()
		}
		out = append(out, ev)
	}
	if m.GetSnapshotComplete() {
		out = append(out, FeedEvent{Kind: FeedSnapshotComplete, StaleSince: stale})
	}
	if m.GetHeartbeat() {
		out = append(out, FeedEvent{Kind: FeedHeartbeat, StaleSince: stale})
	}
	for i := range out {
		out[i].Cursor = before
		if i == len(out)-1 {
			out[i].Cursor = f.cursor
		}
	}
	return out
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
