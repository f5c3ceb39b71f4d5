package platformclient

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// The reconnect policy every client of polysync-batch follows (docs/clients.md):
// reconnect on UNAVAILABLE, on RESOURCE_EXHAUSTED with reason AWS_THROTTLED, after a stream
// that ends cleanly before the terminal state, and (with a token source) once on
// UNAUTHENTICATED; wait min(15 s, 0.5 s × 2^(n−1)) × [0.8, 1.2] before attempt n; give up after
// 10 consecutive reconnects without a message.

// Backoff is the delay schedule between reconnect attempts: attempt n (from 1) waits
// min(Max, Initial × Multiplier^(n−1)) × a uniform random factor in [1−Jitter, 1+Jitter].
type Backoff struct {
	Initial    time.Duration
	Max        time.Duration
	Multiplier float64
	Jitter     float64
}

// DefaultBackoff is the policy's schedule: 0.5 s, 1 s, 2 s, 4 s, 8 s, then 15 s, each ±20 %.
var DefaultBackoff = Backoff{Initial: 500 * time.Millisecond, Max: 15 * time.Second, Multiplier: 2, Jitter: 0.2}

// DefaultMaxReconnects is the policy's budget: consecutive reconnects without a message.
const DefaultMaxReconnects = 10

// DefaultAttemptTimeout bounds each ExecutePipeline attempt of [Execute]; an attempt that
// runs out is retried with the same request_id.
const DefaultAttemptTimeout = 30 * time.Second

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

// Reconnect describes one retry a helper is about to make, for [WithOnReconnect].
type Reconnect struct {
	// Attempt counts consecutive attempts from 1; it starts over once a message arrives.
	Attempt int
	// Err is why the previous stream or call ended: a status error, [ErrStreamEnded] or [ErrIdle].
	Err error
	// Delay is how long the helper waits before the next attempt.
	Delay time.Duration
}

// ErrStreamEnded is why a watch reconnects after a stream that ended cleanly before every
// watched run was terminal (the server does that only when it is told to stop a stream).
var ErrStreamEnded = errors.New("platformclient: watch stream ended before the run was terminal")

// ErrIdle is why a watch reconnects after a stream sent nothing for the [WithIdleTimeout].
var ErrIdle = errors.New("platformclient: watch stream idle")

// ErrTooManyReconnects is wrapped, with the last error, in what a helper returns once its
// budget of consecutive reconnects is spent.
var ErrTooManyReconnects = errors.New("platformclient: too many reconnects")

// ErrStop, returned by a callback, stops a helper (watch, logs, paging) without an error.
var ErrStop = errors.New("platformclient: stop")

type config struct {
	backoff         Backoff
	maxReconnects   int
	idleTimeout     time.Duration
	onReconnect     func(Reconnect)
	freshTokenRetry bool
	attemptTimeout  time.Duration
	onSubmitted     func(*platformv1.ExecutePipelineResponse)
	platform        string
	cursor          string            // FollowChanges: where to start
	tags            map[string]string // FollowChanges: the tag filter
	inFlight        []string          // FollowChanges: the runs the caller knows are in flight
}

func newConfig(opts []Option) config {
	cfg := config{backoff: DefaultBackoff, maxReconnects: DefaultMaxReconnects, attemptTimeout: DefaultAttemptTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// Option configures the watch helpers and [Execute].
type Option func(*config)

// WithPlatform names the platform a watch asks for (default: the server's default platform).
func WithPlatform(platform string) Option { return func(c *config) { c.platform = platform } }

// WithBackoff sets the delay schedule between attempts (default [DefaultBackoff]).
func WithBackoff(b Backoff) Option { return func(c *config) { c.backoff = b } }

// WithMaxReconnects bounds the consecutive attempts without a message in between; a negative n
// means no bound. Default [DefaultMaxReconnects].
func WithMaxReconnects(n int) Option { return func(c *config) { c.maxReconnects = n } }

// WithIdleTimeout makes a watch abandon a stream that sends nothing for d, and reconnect. Set it
// above the server's heartbeat interval (30 s by default). Zero (the default) disables it.
func WithIdleTimeout(d time.Duration) Option { return func(c *config) { c.idleTimeout = d } }

// WithOnReconnect calls fn before each retry (for logging or metrics).
func WithOnReconnect(fn func(Reconnect)) Option { return func(c *config) { c.onReconnect = fn } }

// WithFreshTokenRetry makes a watch reconnect once on UNAUTHENTICATED (the new stream asks the
// token source again). A [Client] connected [WithTokenSource] sets it itself.
func WithFreshTokenRetry() Option { return func(c *config) { c.freshTokenRetry = true } }

// WithAttemptTimeout bounds each ExecutePipeline attempt of [Execute] (default
// [DefaultAttemptTimeout]; zero: only ctx bounds it).
func WithAttemptTimeout(d time.Duration) Option { return func(c *config) { c.attemptTimeout = d } }

// WithOnSubmitted calls fn with the ExecutePipeline response of [Execute] before it starts
// watching: the run id, and whether the run was deduplicated.
func WithOnSubmitted(fn func(*platformv1.ExecutePipelineResponse)) Option {
	return func(c *config) { c.onSubmitted = fn }
}

// retrier counts consecutive attempts and waits the backoff between them.
type retrier struct {
	cfg     *config
	attempt int
}

// wait records a failed attempt: it returns the error to give up with, or nil after waiting
// the backoff (ctx's error if ctx ends first).
func (r *retrier) wait(ctx context.Context, err error) error {
	r.attempt++
	if r.cfg.maxReconnects >= 0 && r.attempt > r.cfg.maxReconnects {
		return fmt.Errorf("%w (%d in a row without a message): %w", ErrTooManyReconnects, r.cfg.maxReconnects, err)
	}
	delay := r.cfg.backoff.Delay(r.attempt)
	if deadline, ok := ctx.Deadline(); ok && !time.Now().Add(delay).Before(deadline) {
		// No reconnect that the deadline leaves no time for: not reported, not waited for.
		return deadlineError{last: err}
	}
	if r.cfg.onReconnect != nil {
		r.cfg.onReconnect(Reconnect{Attempt: r.attempt, Err: err, Delay: delay})
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func (r *retrier) received() { r.attempt = 0 }

// deadlineError is what a helper returns when its context's deadline comes before the next
// reconnect would: errors.Is(err, context.DeadlineExceeded) holds and status.Code(err) is
// DEADLINE_EXCEEDED; the message names the last error.
type deadlineError struct{ last error }

func (e deadlineError) Error() string {
	return "platformclient: the deadline passes before the next reconnect (last error: " + e.last.Error() + ")"
}

func (e deadlineError) Is(target error) bool { return target == context.DeadlineExceeded }

func (e deadlineError) GRPCStatus() *status.Status {
	return status.New(codes.DeadlineExceeded, e.Error())
}

// reconnectable says whether a watch stream that ended with err is reopened (err nil: a clean
// end before the terminal state). unauthRetried tracks the one UNAUTHENTICATED retry.
func reconnectable(err error, cfg *config, unauthRetried *bool) bool {
	if err == nil || errors.Is(err, ErrIdle) || errors.Is(err, ErrStreamEnded) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable:
		return true
	case codes.ResourceExhausted:
		return Reason(err) == ReasonAWSThrottled
	case codes.Unauthenticated:
		if cfg.freshTokenRetry && !*unauthRetried {
			*unauthRetried = true
			return true
		}
	}
	return false
}
