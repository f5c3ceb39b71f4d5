package platformclient_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/polysync/polysync-batch/clients/go/platformclient"
	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// These tests drive WatchRun with scripted streams; the live tests cover the real server.

type step struct {
	native    string
	terminal  bool
	heartbeat bool
	err       error // ends the stream with this error instead of a message
}

type fakeClient struct {
	platformv1.PlatformServiceClient
	streams [][]step
	opened  int
}

func (f *fakeClient) WatchPipelineRun(ctx context.Context, _ *platformv1.WatchPipelineRunRequest,
	_ ...grpc.CallOption) (grpc.ServerStreamingClient[platformv1.WatchPipelineRunResponse], error) {
	if f.opened >= len(f.streams) {
		return nil, status.Error(codes.Unavailable, "no more scripted streams")
	}
	f.opened++
	return &fakeStream{ctx: ctx, steps: f.streams[f.opened-1]}, nil
}

type fakeStream struct {
	grpc.ClientStream
	ctx   context.Context
	steps []step
	seq   int64
}

func (s *fakeStream) Recv() (*platformv1.WatchPipelineRunResponse, error) {
	if len(s.steps) == 0 {
		<-s.ctx.Done() // an open stream with nothing to say
		return nil, status.FromContextError(s.ctx.Err()).Err()
	}
	st := s.steps[0]
	s.steps = s.steps[1:]
	if st.err != nil {
		return nil, st.err
	}
	s.seq++
	return &platformv1.WatchPipelineRunResponse{Sequence: s.seq, Heartbeat: st.heartbeat, Run: &platformv1.PipelineRun{
		RunId: "job-1", NativeStatus: st.native, Terminal: st.terminal}}, nil
}

var (
	unavailable = status.Error(codes.Unavailable, "server shutting down")
	fast        = platformclient.WithBackoff(platformclient.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 2})
	req         = &platformv1.WatchPipelineRunRequest{RunId: "job-1"}
)

func collect(ctx context.Context, c *fakeClient, opts ...platformclient.WatchOption) ([]string, error) {
	var got []string
	err := platformclient.WatchRun(ctx, c, req, func(r *platformv1.PipelineRun) error {
		got = append(got, r.GetNativeStatus())
		return nil
	}, append([]platformclient.WatchOption{fast}, opts...)...)
	return got, err
}

func TestWatchRunResumesAndSkipsRepeatedStates(t *testing.T) {
	c := &fakeClient{streams: [][]step{
		{{native: "RUNNABLE"}, {native: "RUNNABLE", heartbeat: true}, {native: "RUNNING"}, {err: unavailable}},
		{{err: unavailable}},
		{{native: "RUNNING"}, {native: "RUNNING"}, {native: "SUCCEEDED", terminal: true}, {native: "extra"}},
	}}
	var reconnects []platformclient.Reconnect
	got, err := collect(t.Context(), c, platformclient.WithOnReconnect(func(r platformclient.Reconnect) {
		reconnects = append(reconnects, r)
	}))
	if err != nil {
		t.Fatalf("WatchRun: %v", err)
	}
	if want := []string{"RUNNABLE", "RUNNING", "SUCCEEDED"}; !equal(got, want) {
		t.Errorf("delivered %q, want %q", got, want)
	}
	if len(reconnects) != 2 || reconnects[0].Attempt != 1 || reconnects[1].Attempt != 2 {
		t.Errorf("reconnects = %+v, want attempts 1 and 2", reconnects)
	}
	if status.Code(reconnects[0].Err) != codes.Unavailable {
		t.Errorf("reconnect error = %v, want Unavailable", reconnects[0].Err)
	}
}

func TestWatchRunReturnsOtherErrorsAsTheyAre(t *testing.T) {
	notFound := status.Error(codes.NotFound, "run not found")
	c := &fakeClient{streams: [][]step{{{native: "RUNNING"}, {err: notFound}}}}
	_, err := collect(t.Context(), c)
	if err != notFound {
		t.Fatalf("WatchRun = %v, want the NotFound error itself", err)
	}
}

func TestWatchRunGivesUpAfterMaxReconnects(t *testing.T) {
	c := &fakeClient{streams: [][]step{{{err: unavailable}}, {{err: unavailable}}, {{err: unavailable}}, {{native: "SUCCEEDED", terminal: true}}}}
	_, err := collect(t.Context(), c, platformclient.WithMaxReconnects(2))
	if !errors.Is(err, platformclient.ErrTooManyReconnects) {
		t.Fatalf("WatchRun = %v, want ErrTooManyReconnects", err)
	}
	if !errors.Is(err, unavailable) {
		t.Errorf("WatchRun = %v, does not wrap the last stream error", err)
	}
	if c.opened != 3 {
		t.Errorf("opened %d streams, want 3 (1 + 2 reconnects)", c.opened)
	}
}

func TestWatchRunReconnectsAfterCleanEndBeforeTerminal(t *testing.T) {
	c := &fakeClient{streams: [][]step{{{native: "RUNNING"}, {err: io.EOF}}, {{native: "SUCCEEDED", terminal: true}}}}
	var reasons []error
	got, err := collect(t.Context(), c, platformclient.WithOnReconnect(func(r platformclient.Reconnect) { reasons = append(reasons, r.Err) }))
	if err != nil || !equal(got, []string{"RUNNING", "SUCCEEDED"}) {
		t.Fatalf("WatchRun = %q, %v", got, err)
	}
	if len(reasons) != 1 || !errors.Is(reasons[0], platformclient.ErrStreamEnded) {
		t.Errorf("reconnect reasons = %v, want [ErrStreamEnded]", reasons)
	}
}

func TestWatchRunIdleTimeoutReconnects(t *testing.T) {
	c := &fakeClient{streams: [][]step{{{native: "RUNNING"}}, {{native: "SUCCEEDED", terminal: true}}}}
	var reasons []error
	got, err := collect(t.Context(), c, platformclient.WithIdleTimeout(20*time.Millisecond),
		platformclient.WithOnReconnect(func(r platformclient.Reconnect) { reasons = append(reasons, r.Err) }))
	if err != nil || !equal(got, []string{"RUNNING", "SUCCEEDED"}) {
		t.Fatalf("WatchRun = %q, %v", got, err)
	}
	if len(reasons) != 1 || !errors.Is(reasons[0], platformclient.ErrIdle) {
		t.Errorf("reconnect reasons = %v, want [ErrIdle]", reasons)
	}
}

func TestWatchRunStopsWithCallbackError(t *testing.T) {
	c := &fakeClient{streams: [][]step{{{native: "RUNNING"}, {native: "SUCCEEDED", terminal: true}}}}
	stop := errors.New("seen enough")
	calls := 0
	err := platformclient.WatchRun(t.Context(), c, req, func(*platformv1.PipelineRun) error { calls++; return stop }, fast)
	if err != stop || calls != 1 {
		t.Fatalf("WatchRun = %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func TestWatchRunHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	c := &fakeClient{streams: [][]step{{{native: "RUNNING"}}}} // then silence
	err := platformclient.WatchRun(ctx, c, req, func(*platformv1.PipelineRun) error { cancel(); return nil }, fast)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WatchRun = %v, want context.Canceled", err)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := platformclient.Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: 0.2}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 60: time.Second} {
		for range 50 {
			d := b.Delay(attempt)
			if d < want*8/10 || d > want*12/10 {
				t.Fatalf("Delay(%d) = %s, want %s ±20%%", attempt, d, want)
			}
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
