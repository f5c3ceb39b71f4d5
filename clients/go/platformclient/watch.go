package platformclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// Backoff is the delay schedule between reconnect attempts: the n-th consecutive attempt
// (n from 1) waits min(Max, Initial*Multiplier^(n-1)), spread by ±Jitter (a fraction) at random.
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	Multiplier float64
	Jitter     float64
}

// DefaultBackoff is the schedule WatchRun uses unless told otherwise.
var DefaultBackoff = Backoff{Initial: 250 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2, Jitter: 0.2}

// DefaultMaxReconnects is how many consecutive reconnect attempts WatchRun makes by default.
const DefaultMaxReconnects = 12

// Delay returns the delay before the given consecutive attempt (1 for the first).
func (b Backoff) Delay(attempt int) time.Duration {
	d := float64(b.Initial) * math.Pow(b.Multiplier, float64(attempt-1))
	if d > float64(b.Max) || math.IsInf(d, 0) || math.IsNaN(d) {
		d = float64(b.Max)
	}
	if b.Jitter > 0 {
		d *= 1 + b.Jitter*(2*rand.Float64()-1)
	}
	if d < 0 {
		d = 0
	}
	return time.Duration(d)
}

// Reconnect describes one reconnect WatchRun is about to make, for [WithOnReconnect].
type Reconnect struct {
	// Attempt counts consecutive attempts from 1; it starts over once a stream delivers a message.
	Attempt int
	// Err is why the previous stream ended: a codes.Unavailable status, or [ErrStreamEnded] or
	// [ErrIdle].
	Err error
	// Delay is how long WatchRun waits before opening the next stream.
	Delay time.Duration
}

// ErrStreamEnded is reported (to [WithOnReconnect]) when a stream ended cleanly before the
// run was terminal, which the service does not do; WatchRun reconnects as for UNAVAILABLE.
var ErrStreamEnded = errors.New("platformclient: watch stream ended before the run was terminal")

// ErrIdle is reported (to [WithOnReconnect]) when a stream sent nothing for the
// [WithIdleTimeout] duration; WatchRun abandons it and reconnects.
var ErrIdle = errors.New("platformclient: watch stream idle")

// ErrTooManyReconnects wraps the last stream error when the reconnect budget is spent.
var ErrTooManyReconnects = errors.New("platformclient: too many reconnects")

type watchConfig struct {
	backoff       Backoff
	maxReconnects int
	idleTimeout   time.Duration
	onReconnect   func(Reconnect)
}

// WatchOption configures [WatchRun].
type WatchOption func(*watchConfig)

// WithBackoff sets the delay schedule between reconnect attempts (default [DefaultBackoff]).
func WithBackoff(b Backoff) WatchOption { return func(c *watchConfig) { c.backoff = b } }

// WithMaxReconnects bounds the consecutive reconnect attempts (attempts after which no stream
// delivered a message); a negative n means no bound. Default [DefaultMaxReconnects].
func WithMaxReconnects(n int) WatchOption { return func(c *watchConfig) { c.maxReconnects = n } }

// WithIdleTimeout makes WatchRun give up on a stream that sends nothing for d and reconnect.
// Set it above the server's heartbeat interval (30 s by default). Zero (the default) disables it.
func WithIdleTimeout(d time.Duration) WatchOption { return func(c *watchConfig) { c.idleTimeout = d } }

// WithOnReconnect calls fn before each reconnect (for logging or metrics).
func WithOnReconnect(fn func(Reconnect)) WatchOption {
	return func(c *watchConfig) { c.onReconnect = fn }
}

// WatchRun follows one run with WatchPipelineRun and calls fn with each new state, in order,
// until the run is terminal; then it returns nil. fn sees the terminal state last.
//
// When a stream fails with codes.Unavailable (the server restarted or is shutting down, or the
// connection broke) WatchRun opens a new one after an exponential backoff with jitter. The
// service sends the run's current state first on every stream, so nothing is missed; a state
// identical to the one fn saw last (such as that first message) and heartbeats are not passed
// to fn. After the configured number of consecutive failed attempts it returns an
// error wrapping [ErrTooManyReconnects] and the last stream error.
//
// Any other error (e.g. codes.NotFound with reason RUN_NOT_FOUND) is returned as it is, and so
// is an error returned by fn, which stops the watch. When ctx is done WatchRun returns ctx.Err().
func WatchRun(ctx context.Context, client platformv1.PlatformServiceClient,
	req *platformv1.WatchPipelineRunRequest, fn func(*platformv1.PipelineRun) error,
	opts ...WatchOption) error {
	cfg := watchConfig{backoff: DefaultBackoff, maxReconnects: DefaultMaxReconnects}
	for _, o := range opts {
		o(&cfg)
	}
	var last *platformv1.PipelineRun
	attempt := 0
	for {
		received, terminal, err := watchOnce(ctx, client, req, cfg.idleTimeout, &last, fn)
		if terminal {
			return nil
		}
		var fe errFn
		if errors.As(err, &fe) {
			return fe.err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if !retryable(err) {
			return err
		}
		if err == nil {
			err = ErrStreamEnded
		}
		if received {
			attempt = 0
		}
		attempt++
		if cfg.maxReconnects >= 0 && attempt > cfg.maxReconnects {
			return fmt.Errorf("%w (%d attempts): %w", ErrTooManyReconnects, cfg.maxReconnects, err)
		}
		delay := cfg.backoff.Delay(attempt)
		if cfg.onReconnect != nil {
			cfg.onReconnect(Reconnect{Attempt: attempt, Err: err, Delay: delay})
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// errFn carries an error returned by the caller's callback out of watchOnce, unretried.
type errFn struct{ err error }

func (e errFn) Error() string { return e.err.Error() }

func retryable(err error) bool {
	if err == nil || errors.Is(err, ErrIdle) {
		return true
	}
	return status.Code(err) == codes.Unavailable
}

// watchOnce runs one stream. It reports whether a message arrived, whether the terminal state
// was delivered, and the error that ended the stream (nil for a clean end).
func watchOnce(ctx context.Context, client platformv1.PlatformServiceClient,
	req *platformv1.WatchPipelineRunRequest, idle time.Duration,
	last **platformv1.PipelineRun, fn func(*platformv1.PipelineRun) error) (received, terminal bool, err error) {
	streamCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var idleTimer *time.Timer
	if idle > 0 {
		idleTimer = time.AfterFunc(idle, func() { cancel(ErrIdle) })
		defer idleTimer.Stop()
	}
	stream, err := client.WatchPipelineRun(streamCtx, req)
	if err != nil {
		return false, false, streamErr(streamCtx, err)
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return received, false, nil
		}
		if err != nil {
			return received, false, streamErr(streamCtx, err)
		}
		received = true
		if idleTimer != nil {
			idleTimer.Reset(idle)
		}
		run := msg.GetRun()
		if run == nil || (msg.GetHeartbeat() && *last != nil) || proto.Equal(run, *last) {
			continue // a heartbeat, or a state fn has seen (e.g. the first one of a new stream)
		}
		*last = run
		if err := fn(run); err != nil {
			return received, false, errFn{err}
		}
		if run.GetTerminal() {
			return received, true, nil
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
