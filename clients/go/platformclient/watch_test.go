package platformclient_test

import (
	"context"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/polysync/polysync-batch/clients/go/platformclient"
	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// These tests drive the helpers with scripted streams and calls; live_test.go covers the real server.

// testContext is t.Context() for Go 1.22: cancelled when the test ends.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

type step struct {
	run       string // run id; "job-1" when empty
	native    string
	reason    string
	terminal  bool
	heartbeat bool
	stale     bool
	err       error // ends the stream with this error instead of a message
}

type fakeClient struct {
	platformv1.PlatformServiceClient
	mu        sync.Mutex
	streams   [][]step
	opened    int
	watchedBy [][]string // the run ids of each WatchPipelineRuns call

	executeErrs []error
	executeReqs []*platformv1.ExecutePipelineRequest

	pages     []*platformv1.ListPipelineRunsResponse
	pageReqs  []string
	pipePages []*platformv1.ListPipelinesResponse
}

func (f *fakeClient) next(ctx context.Context) (*fakeStream, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.opened >= len(f.streams) {
		return nil, status.Error(codes.Unavailable, "no more scripted streams")
	}
	f.opened++
	return &fakeStream{ctx: ctx, steps: f.streams[f.opened-1]}, nil
}

func (f *fakeClient) WatchPipelineRun(ctx context.Context, _ *platformv1.WatchPipelineRunRequest,
	_ ...grpc.CallOption) (grpc.ServerStreamingClient[platformv1.WatchPipelineRunResponse], error) {
	s, err := f.next(ctx)
	if err != nil {
		return nil, err
	}
	return oneRun{s}, nil
}

func (f *fakeClient) WatchPipelineRuns(ctx context.Context, req *platformv1.WatchPipelineRunsRequest,
	_ ...grpc.CallOption) (grpc.ServerStreamingClient[platformv1.WatchPipelineRunsResponse], error) {
	f.watchedBy = append(f.watchedBy, slices.Clone(req.GetRunIds()))
	s, err := f.next(ctx)
	if err != nil {
		return nil, err
	}
	return manyRuns{s}, nil
}

func (f *fakeClient) ExecutePipeline(ctx context.Context, req *platformv1.ExecutePipelineRequest,
	_ ...grpc.CallOption) (*platformv1.ExecutePipelineResponse, error) {
	f.executeReqs = append(f.executeReqs, req)
	if n := len(f.executeReqs); n <= len(f.executeErrs) && f.executeErrs[n-1] != nil {
		return nil, f.executeErrs[n-1]
	}
	return &platformv1.ExecutePipelineResponse{Run: &platformv1.PipelineRun{RunId: "job-1", NativeStatus: "SUBMITTED"}}, nil
}

func (f *fakeClient) ListPipelineRuns(_ context.Context, req *platformv1.ListPipelineRunsRequest,
	_ ...grpc.CallOption) (*platformv1.ListPipelineRunsResponse, error) {
	f.pageReqs = append(f.pageReqs, req.GetPageToken())
	return f.pages[len(f.pageReqs)-1], nil
}

func (f *fakeClient) ListPipelines(_ context.Context, req *platformv1.ListPipelinesRequest,
	_ ...grpc.CallOption) (*platformv1.ListPipelinesResponse, error) {
	f.pageReqs = append(f.pageReqs, req.GetPageToken())
	return f.pipePages[len(f.pageReqs)-1], nil
}

type fakeStream struct {
	grpc.ClientStream
	ctx   context.Context
	steps []step
	seq   int64
}

func (s *fakeStream) recv() (*platformv1.PipelineRun, int64, bool, *timestamppb.Timestamp, error) {
	if len(s.steps) == 0 {
		<-s.ctx.Done() // an open stream with nothing to say
		return nil, 0, false, nil, status.FromContextError(s.ctx.Err()).Err()
	}
	st := s.steps[0]
	s.steps = s.steps[1:]
	if st.err != nil {
		return nil, 0, false, nil, st.err
	}
	s.seq++
	id := st.run
	if id == "" {
		id = "job-1"
	}
	var stale *timestamppb.Timestamp
	if st.stale {
		stale = timestamppb.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	}
	return &platformv1.PipelineRun{RunId: id, NativeStatus: st.native, StatusReason: st.reason, Terminal: st.terminal},
		s.seq, st.heartbeat, stale, nil
}

type oneRun struct{ *fakeStream }

func (s oneRun) Recv() (*platformv1.WatchPipelineRunResponse, error) {
	run, seq, hb, stale, err := s.recv()
	if err != nil {
		return nil, err
	}
	return &platformv1.WatchPipelineRunResponse{Run: run, Sequence: seq, Heartbeat: hb, StaleSince: stale}, nil
}

type manyRuns struct{ *fakeStream }

func (s manyRuns) Recv() (*platformv1.WatchPipelineRunsResponse, error) {
	run, seq, hb, stale, err := s.recv()
	if err != nil {
		return nil, err
	}
	return &platformv1.WatchPipelineRunsResponse{Run: run, Sequence: seq, Heartbeat: hb, StaleSince: stale}, nil
}

var (
	unavailable = status.Error(codes.Unavailable, "server shutting down")
	fastBackoff = platformclient.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 2}
	fast        = platformclient.WithBackoff(fastBackoff)
	jobID       = "job-1"
)

func withReason(code codes.Code, reason string) error {
	st, err := status.New(code, strings.ToLower(reason)).WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: platformclient.Domain})
	if err != nil {
		panic(err)
	}
	return st.Err()
}

// describe renders an event as "NATIVE", with " hb" for a heartbeat and " stale" when stale.
func describe(ev platformclient.WatchEvent) string {
	s := ev.Run.GetNativeStatus()
	if ev.Run.GetRunId() != "job-1" {
		s = ev.Run.GetRunId() + ":" + s
	}
	if ev.Heartbeat {
		s += " hb"
	}
	if ev.Stale() {
		s += " stale"
	}
	return s
}

func collect(ctx context.Context, c *fakeClient, opts ...platformclient.Option) ([]string, error) {
	var got []string
	err := platformclient.WatchRun(ctx, c, "job-1", func(ev platformclient.WatchEvent) error {
		got = append(got, describe(ev))
		return nil
	}, append([]platformclient.Option{fast}, opts...)...)
	return got, err
}

func TestWatchRunResumesAndSkipsRepeatedStates(t *testing.T) {
	c := &fakeClient{streams: [][]step{
		{{native: "RUNNABLE"}, {native: "RUNNABLE", heartbeat: true}, {native: "RUNNING"}, {err: unavailable}},
		{{err: unavailable}},
		{{native: "RUNNING"}, {native: "RUNNING"}, {native: "SUCCEEDED", terminal: true}, {native: "extra"}},
	}}
	var reconnects []platformclient.Reconnect
	got, err := collect(testContext(t), c, platformclient.WithOnReconnect(func(r platformclient.Reconnect) {
		reconnects = append(reconnects, r)
	}))
	if err != nil {
		t.Fatalf("WatchRun: %v", err)
	}
	if want := []string{"RUNNABLE", "RUNNABLE hb", "RUNNING", "SUCCEEDED"}; !slices.Equal(got, want) {
		t.Errorf("delivered %q, want %q", got, want)
	}
	if len(reconnects) != 2 || reconnects[0].Attempt != 1 || reconnects[1].Attempt != 2 {
		t.Errorf("reconnects = %+v, want attempts 1 and 2", reconnects)
	}
	if status.Code(reconnects[0].Err) != codes.Unavailable {
		t.Errorf("reconnect error = %v, want Unavailable", reconnects[0].Err)
	}
}

func TestWatchRunPassesStaleSinceAndHeartbeats(t *testing.T) {
	c := &fakeClient{streams: [][]step{{
		{native: "RUNNING"}, {native: "RUNNING", heartbeat: true, stale: true},
		{native: "RUNNING", reason: "now with a reason", stale: true}, {native: "SUCCEEDED", terminal: true},
	}}}
	var events []platformclient.WatchEvent
	err := platformclient.WatchRun(testContext(t), c, "job-1", func(ev platformclient.WatchEvent) error {
		events = append(events, ev)
		return nil
	}, fast)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range events {
		got = append(got, describe(ev))
	}
	if want := []string{"RUNNING", "RUNNING hb stale", "RUNNING stale", "SUCCEEDED"}; !slices.Equal(got, want) {
		t.Fatalf("delivered %q, want %q (a changed status_reason is a new state)", got, want)
	}
	if want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC); !events[1].StaleSince.Equal(want) {
		t.Errorf("StaleSince = %v, want %v", events[1].StaleSince, want)
	}
}

func TestWatchRunReturnsOtherErrorsAsTheyAre(t *testing.T) {
	for _, err := range []error{
		status.Error(codes.NotFound, "run not found"),
		withReason(codes.ResourceExhausted, platformclient.ReasonTooManyStreams),
		status.Error(codes.Unauthenticated, "no token"), // no token source: not retried
		status.Error(codes.InvalidArgument, "bad run id"),
	} {
		c := &fakeClient{streams: [][]step{{{native: "RUNNING"}, {err: err}}, {{native: "SUCCEEDED", terminal: true}}}}
		_, got := collect(testContext(t), c)
		if got != err {
			t.Errorf("WatchRun = %v, want %v itself", got, err)
		}
		if c.opened != 1 {
			t.Errorf("%v: opened %d streams, want 1", err, c.opened)
		}
	}
}

func TestWatchRunReconnectsWhenAWSIsThrottled(t *testing.T) {
	throttled := withReason(codes.ResourceExhausted, platformclient.ReasonAWSThrottled)
	c := &fakeClient{streams: [][]step{{{native: "RUNNING"}, {err: throttled}}, {{native: "SUCCEEDED", terminal: true}}}}
	got, err := collect(testContext(t), c)
	if err != nil || !slices.Equal(got, []string{"RUNNING", "SUCCEEDED"}) {
		t.Fatalf("WatchRun = %q, %v", got, err)
	}
}

func TestWatchRunRetriesUnauthenticatedOnceWithATokenSource(t *testing.T) {
	unauth := withReason(codes.Unauthenticated, platformclient.ReasonCallerUnauthenticated)
	c := &fakeClient{streams: [][]step{{{native: "RUNNING"}, {err: unauth}}, {{native: "SUCCEEDED", terminal: true}}}}
	got, err := collect(testContext(t), c, platformclient.WithFreshTokenRetry())
	if err != nil || !slices.Equal(got, []string{"RUNNING", "SUCCEEDED"}) {
		t.Fatalf("WatchRun = %q, %v", got, err)
	}
	// Twice in a row without a message in between: returned.
	c = &fakeClient{streams: [][]step{{{err: unauth}}, {{err: unauth}}, {{native: "SUCCEEDED", terminal: true}}}}
	if _, err := collect(testContext(t), c, platformclient.WithFreshTokenRetry()); status.Code(err) != codes.Unauthenticated || c.opened != 2 {
		t.Fatalf("WatchRun = %v after %d streams, want Unauthenticated after 2", err, c.opened)
	}
}

func TestWatchRunGivesUpAfterTenReconnectsByDefault(t *testing.T) {
	var streams [][]step
	for range 12 {
		streams = append(streams, []step{{err: unavailable}})
	}
	c := &fakeClient{streams: append(streams, []step{{native: "SUCCEEDED", terminal: true}})}
	_, err := collect(testContext(t), c)
	if !errors.Is(err, platformclient.ErrTooManyReconnects) {
		t.Fatalf("WatchRun = %v, want ErrTooManyReconnects", err)
	}
	if !errors.Is(err, unavailable) || status.Code(err) != codes.Unavailable {
		t.Errorf("WatchRun = %v, does not wrap the last stream error", err)
	}
	if c.opened != 11 {
		t.Errorf("opened %d streams, want 11 (1 + 10 reconnects)", c.opened)
	}
}

func TestWatchRunBudgetStartsOverAfterAMessage(t *testing.T) {
	var streams [][]step
	for range 3 {
		for range 9 {
			streams = append(streams, []step{{err: unavailable}})
		}
		streams = append(streams, []step{{native: "RUNNING"}, {err: unavailable}})
	}
	c := &fakeClient{streams: append(streams, []step{{native: "SUCCEEDED", terminal: true}})}
	got, err := collect(testContext(t), c)
	if err != nil || !slices.Equal(got, []string{"RUNNING", "SUCCEEDED"}) {
		t.Fatalf("WatchRun = %q, %v (30 reconnects, never 10 in a row without a message)", got, err)
	}
}

func TestWatchRunReconnectsAfterCleanEndBeforeTerminal(t *testing.T) {
	c := &fakeClient{streams: [][]step{{{native: "RUNNING"}, {err: io.EOF}}, {{native: "SUCCEEDED", terminal: true}}}}
	var reasons []error
	got, err := collect(testContext(t), c, platformclient.WithOnReconnect(func(r platformclient.Reconnect) { reasons = append(reasons, r.Err) }))
	if err != nil || !slices.Equal(got, []string{"RUNNING", "SUCCEEDED"}) {
		t.Fatalf("WatchRun = %q, %v", got, err)
	}
	if len(reasons) != 1 || !errors.Is(reasons[0], platformclient.ErrStreamEnded) {
		t.Errorf("reconnect reasons = %v, want [ErrStreamEnded]", reasons)
	}
	// Clean ends count against the budget too: no hot loop.
	var streams [][]step
	for range 12 {
		streams = append(streams, []step{{err: io.EOF}})
	}
	c = &fakeClient{streams: streams}
	if _, err := collect(testContext(t), c); !errors.Is(err, platformclient.ErrStreamEnded) || c.opened != 11 {
		t.Errorf("WatchRun = %v after %d streams, want ErrStreamEnded after 11", err, c.opened)
	}
}

func TestWatchRunIdleTimeoutReconnects(t *testing.T) {
	c := &fakeClient{streams: [][]step{{{native: "RUNNING"}}, {{native: "SUCCEEDED", terminal: true}}}}
	var reasons []error
	got, err := collect(testContext(t), c, platformclient.WithIdleTimeout(20*time.Millisecond),
		platformclient.WithOnReconnect(func(r platformclient.Reconnect) { reasons = append(reasons, r.Err) }))
	if err != nil || !slices.Equal(got, []string{"RUNNING", "SUCCEEDED"}) {
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
	err := platformclient.WatchRun(testContext(t), c, "job-1", func(platformclient.WatchEvent) error { calls++; return stop }, fast)
	if err != stop || calls != 1 {
		t.Fatalf("WatchRun = %v after %d calls, want the callback's error after 1", err, calls)
	}
	c = &fakeClient{streams: [][]step{{{native: "RUNNING"}}}}
	err = platformclient.WatchRun(testContext(t), c, "job-1", func(platformclient.WatchEvent) error { return platformclient.ErrStop }, fast)
	if err != nil {
		t.Fatalf("WatchRun = %v, want nil after ErrStop", err)
	}
}

func TestWatchRunHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(testContext(t))
	c := &fakeClient{streams: [][]step{{{native: "RUNNING"}}}} // then silence
	err := platformclient.WatchRun(ctx, c, "job-1", func(platformclient.WatchEvent) error { cancel(); return nil }, fast)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WatchRun = %v, want context.Canceled", err)
	}
}

func TestWatchRunsResumesWithThePendingRunsOnly(t *testing.T) {
	c := &fakeClient{streams: [][]step{
		{{run: "a", native: "RUNNING"}, {run: "b", native: "RUNNING"}, {run: "a", native: "SUCCEEDED", terminal: true}, {err: unavailable}},
		{{run: "b", native: "RUNNING"}, {run: "b", native: "FAILED", terminal: true}},
	}}
	var got []string
	err := platformclient.WatchRuns(testContext(t), c, []string{"a", "b"},
		func(ev platformclient.WatchEvent) error { got = append(got, describe(ev)); return nil }, fast)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a:RUNNING", "b:RUNNING", "a:SUCCEEDED", "b:FAILED"}; !slices.Equal(got, want) {
		t.Errorf("delivered %q, want %q", got, want)
	}
	if want := [][]string{{"a", "b"}, {"b"}}; len(c.watchedBy) != 2 || !slices.Equal(c.watchedBy[0], want[0]) || !slices.Equal(c.watchedBy[1], want[1]) {
		t.Errorf("streams asked for %q, want %q", c.watchedBy, want)
	}
}

func TestBackoffIsThePolicy(t *testing.T) {
	b := platformclient.DefaultBackoff
	want := map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 3: 2 * time.Second,
		5: 8 * time.Second, 6: 15 * time.Second, 60: 15 * time.Second}
	for attempt, w := range want {
		for range 50 {
			if d := b.Delay(attempt); d < w*8/10 || d > w*12/10 {
				t.Fatalf("Delay(%d) = %s, want %s ±20%%", attempt, d, w)
			}
		}
	}
	if platformclient.DefaultMaxReconnects != 10 {
		t.Errorf("DefaultMaxReconnects = %d, want 10", platformclient.DefaultMaxReconnects)
	}
}

func TestExecuteRetriesWithTheSameRequestID(t *testing.T) {
	c := &fakeClient{
		executeErrs: []error{unavailable, status.Error(codes.DeadlineExceeded, "slow")},
		streams:     [][]step{{{native: "RUNNING"}, {native: "SUCCEEDED", terminal: true}}},
	}
	var submitted *platformv1.ExecutePipelineResponse
	in := &platformv1.ExecutePipelineRequest{Pipeline: "greet"}
	run, err := platformclient.Execute(testContext(t), c, in, fast,
		platformclient.WithOnSubmitted(func(r *platformv1.ExecutePipelineResponse) { submitted = r }))
	if err != nil || run.GetNativeStatus() != "SUCCEEDED" {
		t.Fatalf("Execute = %v, %v; want the SUCCEEDED run", run, err)
	}
	if len(c.executeReqs) != 3 {
		t.Fatalf("%d ExecutePipeline calls, want 3", len(c.executeReqs))
	}
	id := c.executeReqs[0].GetRequestId()
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Errorf("generated request_id %q is not a UUID v4", id)
	}
	for i, r := range c.executeReqs {
		if r.GetRequestId() != id {
			t.Errorf("attempt %d used request_id %q, want %q", i+1, r.GetRequestId(), id)
		}
	}
	if in.GetRequestId() != "" {
		t.Errorf("Execute modified the caller's request")
	}
	if submitted.GetRun().GetRunId() != "job-1" {
		t.Errorf("WithOnSubmitted saw %v", submitted)
	}
}

func TestExecuteKeepsTheCallersRequestIDAndReturnsOtherErrors(t *testing.T) {
	missing := withReason(codes.InvalidArgument, platformclient.ReasonMissingParameters)
	c := &fakeClient{executeErrs: []error{unavailable, missing}}
	_, err := platformclient.Execute(testContext(t), c, &platformv1.ExecutePipelineRequest{Pipeline: "greet", RequestId: "mine"}, fast)
	if err != missing || len(c.executeReqs) != 2 {
		t.Fatalf("Execute = %v after %d calls, want the MISSING_PARAMETERS error after 2", err, len(c.executeReqs))
	}
	if c.executeReqs[0].GetRequestId() != "mine" || c.executeReqs[1].GetRequestId() != "mine" {
		t.Errorf("request ids %q, %q; want the caller's", c.executeReqs[0].GetRequestId(), c.executeReqs[1].GetRequestId())
	}
}

func TestEachRunFollowsPageTokens(t *testing.T) {
	c := &fakeClient{pages: []*platformv1.ListPipelineRunsResponse{
		{Runs: []*platformv1.PipelineRun{{RunId: "r1"}, {RunId: "r2"}}, NextPageToken: "t1"},
		{Runs: []*platformv1.PipelineRun{{RunId: "r3"}}, NextPageToken: "t2"},
		{Runs: []*platformv1.PipelineRun{{RunId: "r4"}}},
	}}
	var ids []string
	err := platformclient.ListRuns(testContext(t), c, &platformv1.ListPipelineRunsRequest{PageSize: 2},
		func(r *platformv1.PipelineRun) error { ids = append(ids, r.GetRunId()); return nil })
	if err != nil || !slices.Equal(ids, []string{"r1", "r2", "r3", "r4"}) || !slices.Equal(c.pageReqs, []string{"", "t1", "t2"}) {
		t.Fatalf("EachRun = %q, %v with tokens %q", ids, err, c.pageReqs)
	}
	c = &fakeClient{pipePages: []*platformv1.ListPipelinesResponse{
		{Pipelines: []*platformv1.Pipeline{{Name: "a"}}, NextPageToken: "t1"},
		{Pipelines: []*platformv1.Pipeline{{Name: "b"}}, NextPageToken: "t2"},
	}}
	var names []string
	err = platformclient.ListPipelines(testContext(t), c, &platformv1.ListPipelinesRequest{},
		func(p *platformv1.Pipeline) error { names = append(names, p.GetName()); return platformclient.ErrStop })
	if err != nil || !slices.Equal(names, []string{"a"}) || len(c.pageReqs) != 1 {
		t.Fatalf("EachPipeline with ErrStop = %q, %v after %d pages", names, err, len(c.pageReqs))
	}
}

func TestErrorHelpers(t *testing.T) {
	st, _ := status.New(codes.ResourceExhausted, "throttled").WithDetails(
		&errdetails.ErrorInfo{Reason: platformclient.ReasonAWSThrottled, Domain: platformclient.Domain},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(1500 * time.Millisecond)},
		&errdetails.Help{Links: []*errdetails.Help_Link{{Description: "quotas", Url: "https://example.com/q"}}},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "parameters[name]"}, {Field: "run_id"}}},
	)
	err := st.Err()
	if d, ok := platformclient.RetryDelay(err); !ok || d != 1500*time.Millisecond {
		t.Errorf("RetryDelay = %s, %v", d, ok)
	}
	if got := platformclient.HelpLinks(err); len(got) != 1 || got[0].GetUrl() != "https://example.com/q" {
		t.Errorf("Help = %v", got)
	}
	if got := platformclient.MissingParameters(err); !slices.Equal(got, []string{"name"}) {
		t.Errorf("MissingParameters = %q, want [name]", got)
	}
	if got := platformclient.Reason(err); got != "AWS_THROTTLED" {
		t.Errorf("Reason = %q", got)
	}
	if _, ok := platformclient.RetryDelay(unavailable); ok {
		t.Errorf("RetryDelay of an error without RetryInfo reported one")
	}
	if !slices.Contains(platformclient.Reasons, "SERVER_SHUTTING_DOWN") || len(platformclient.Reasons) < 17 {
		t.Errorf("Reasons = %q lacks the catalogue's reasons", platformclient.Reasons)
	}
}
