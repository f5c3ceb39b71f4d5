package platformclient

import (
	"context"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// WatchEvent is one message a watch helper passes on.
type WatchEvent struct {
	// Run is the run's state.
	Run *platformv1.PipelineRun
	// StaleSince is set (non-zero) while the server cannot poll AWS: the time since which Run
	// may be out of date. Zero when the state is current.
	StaleSince time.Time
	// Heartbeat is true for the server's heartbeat: nothing changed, Run repeats the latest
	// state. Heartbeats are passed on (they show the stream is alive and whether it is stale).
	Heartbeat bool
}

// Stale reports whether the state may be out of date (StaleSince is set).
func (e WatchEvent) Stale() bool { return !e.StaleSince.IsZero() }

// WatchRun follows one run (of the default platform, or [WithPlatform]'s) with WatchPipelineRun and calls fn with each event, in order, until
// the run is terminal; then it returns nil. fn sees the terminal state last.
//
// It follows the reconnect policy of docs/clients.md: on UNAVAILABLE (the server restarted or
// is shutting down, or the connection broke), on RESOURCE_EXHAUSTED with reason AWS_THROTTLED,
// after a stream that ends before the terminal state, and (with [WithFreshTokenRetry]) once on
// UNAUTHENTICATED, it opens a new stream after [DefaultBackoff]; after
// [DefaultMaxReconnects] consecutive reconnects without a message it returns the last error
// (wrapped with [ErrTooManyReconnects]). The server sends the current state first on every
// stream, so nothing is missed, and a state identical to the one fn saw last (same
// native_status, status_reason, exit_code, array counts and stale_since) is not passed on
// again; heartbeats are always passed on. [WithIdleTimeout] reconnects a silent stream. When
// ctx has a deadline that comes before the next reconnect would, no reconnect is reported or
// waited for: the error returned is DEADLINE_EXCEEDED (errors.Is context.DeadlineExceeded).
//
// Any other error (e.g. NOT_FOUND with reason RUN_NOT_FOUND) is returned as it is, and so is an
// error returned by fn ([ErrStop] stops without one). When ctx is done it returns ctx.Err().
func WatchRun(ctx context.Context, client platformv1.PlatformServiceClient,
	runID string, fn func(WatchEvent) error, opts ...Option) error {
	cfg := newConfig(opts)
	req := &platformv1.WatchPipelineRunRequest{Platform: cfg.platform, RunId: runID}
	open := func(ctx context.Context, _ []string) (func() (message, error), error) {
		stream, err := client.WatchPipelineRun(ctx, req)
		if err != nil {
			return nil, err
		}
		return func() (message, error) {
			m, err := stream.Recv()
			return message{m.GetRun(), m.GetHeartbeat(), m.GetStaleSince()}, err
		}, nil
	}
	return watch(ctx, []string{runID}, open, fn, cfg)
}

// WatchRuns follows many runs with WatchPipelineRuns, calling fn with each event of any of
// them, until all are terminal; then it returns nil. It follows the same policy as
// [WatchRun], per run; a reconnect asks only for the runs not yet terminal.
func WatchRuns(ctx context.Context, client platformv1.PlatformServiceClient,
	runIDs []string, fn func(WatchEvent) error, opts ...Option) error {
	cfg := newConfig(opts)
	open := func(ctx context.Context, pending []string) (func() (message, error), error) {
		stream, err := client.WatchPipelineRuns(ctx, &platformv1.WatchPipelineRunsRequest{
			Platform: cfg.platform, RunIds: pending})
		if err != nil {
			return nil, err
		}
		return func() (message, error) {
			m, err := stream.Recv()
			return message{m.GetRun(), m.GetHeartbeat(), m.GetStaleSince()}, err
		}, nil
	}
	return watch(ctx, runIDs, open, fn, cfg)
}

type message struct {
	run        *platformv1.PipelineRun
	heartbeat  bool
	staleSince *timestamppb.Timestamp
}

// stateKey is what makes two states of a run the same for the suppression of repeats.
// It is the server's: native status, reason, exit code, array status counts, and stale_since
// (clients/watch-policy.json); the array size never changes alone.
type stateKey struct {
	native, reason string
	exitCode       int32
	hasExitCode    bool
	counts         string
	staleSince     time.Time
}

func keyOf(run *platformv1.PipelineRun, staleSince *timestamppb.Timestamp) stateKey {
	k := stateKey{native: run.GetNativeStatus(), reason: run.GetStatusReason()}
	if staleSince != nil {
		k.staleSince = staleSince.AsTime()
	}
	if run.ExitCode != nil {
		k.exitCode, k.hasExitCode = run.GetExitCode(), true
	}
	if counts := run.GetArray().GetStatusCounts(); len(counts) > 0 {
		k.counts = countsString(counts)
	}
	return k
}

func countsString(counts map[string]int32) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + strconv.Itoa(int(counts[k])) + ",")
	}
	return b.String()
}

// watch is the loop of WatchRun and WatchRuns. open starts a stream for the given run ids and
// returns its receive function.
func watch(ctx context.Context, runIDs []string,
	open func(context.Context, []string) (func() (message, error), error),
	fn func(WatchEvent) error, cfg config) error {
	last := map[string]stateKey{}
	terminal := map[string]bool{}
	pending := func() []string {
		var ids []string
		for _, id := range runIDs {
			if !terminal[id] {
				ids = append(ids, id)
			}
		}
		return ids
	}
	r := retrier{cfg: &cfg}
	unauthRetried := false
	for {
		err := watchOnce(ctx, &cfg, pending(), open, func(m message) error {
			r.received()
			unauthRetried = false
			run := m.run
			if run == nil {
				return nil
			}
			id := run.GetRunId()
			key := keyOf(run, m.staleSince)
			prev, seen := last[id]
			if !m.heartbeat && seen && prev == key {
				if run.GetTerminal() {
					terminal[id] = true
				}
				return nil // the current state of a resumed stream, already passed on
			}
			last[id] = key
			ev := WatchEvent{Run: run, Heartbeat: m.heartbeat}
			if m.staleSince != nil {
				ev.StaleSince = m.staleSince.AsTime()
			}
			if err := fn(ev); err != nil {
				return errFn{err}
			}
			if run.GetTerminal() {
				terminal[id] = true
			}
			return nil
		})
		if len(pending()) == 0 {
			return nil
		}
		var fe errFn
		if errors.As(err, &fe) {
			return callerResult(fe.err)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if errors.Is(err, errAllTerminal) {
			continue // cannot happen: pending() is empty then
		}
		if err == nil {
			err = ErrStreamEnded
		}
		if !reconnectable(err, &cfg, &unauthRetried) {
			return err
		}
		if giveUp := r.wait(ctx, err); giveUp != nil {
			return giveUp
		}
	}
}

var errAllTerminal = errors.New("all terminal")

// errFn carries an error returned by the caller's callback out of a stream, unretried.
type errFn struct{ err error }

func (e errFn) Error() string { return e.err.Error() }

// callerResult is what Watch and FollowChanges return for an error of the caller's callback:
// nil for ErrStop, else the error itself.
func callerResult(err error) error {
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// idleGuard cancels a stream (cause ErrIdle) when no message arrives for its timeout (0: never).
// It is paused while the caller's callback runs: the callback's time is not the stream's silence.
type idleGuard struct {
	timer   *time.Timer
	timeout time.Duration
}

func startIdleGuard(timeout time.Duration, cancel context.CancelCauseFunc) idleGuard {
	if timeout <= 0 {
		return idleGuard{}
	}
	return idleGuard{timer: time.AfterFunc(timeout, func() { cancel(ErrIdle) }), timeout: timeout}
}

func (g idleGuard) pause() {
	if g.timer != nil {
		g.timer.Stop()
	}
}

func (g idleGuard) resume() {
	if g.timer != nil {
		g.timer.Reset(g.timeout)
	}
}

func (g idleGuard) stop() { g.pause() }

// watchOnce runs one stream until it ends, every run is terminal, or handle fails. It returns
// nil for a clean end of the stream.
func watchOnce(ctx context.Context, cfg *config, ids []string,
	open func(context.Context, []string) (func() (message, error), error),
	handle func(message) error) error {
	streamCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := startIdleGuard(cfg.idleTimeout, cancel)
	defer idle.stop()
	recv, err := open(streamCtx, ids)
	if err != nil {
		return streamErr(streamCtx, err)
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	for {
		m, err := recv()
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
		if m.run.GetTerminal() {
			delete(want, m.run.GetRunId())
			if len(want) == 0 {
				return errAllTerminal
			}
		}
	}
}

// streamErr prefers ErrIdle over the Canceled status the idle cancellation produces.
func streamErr(streamCtx context.Context, err error) error {
	if errors.Is(context.Cause(streamCtx), ErrIdle) {
		return ErrIdle
	}
	return err
}
