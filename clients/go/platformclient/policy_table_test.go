package platformclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/polysync/polysync-batch/clients/go/platformclient"
	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// The scenarios of clients/watch-policy.json, the one watch policy every client replays
// (docs/clients.md), against WatchRun / WatchRuns over scripted streams. Times are scaled.
const tableScale = 0.02

type tableStep struct {
	Run        string           `json:"run"`
	Native     string           `json:"native"`
	Reason     string           `json:"reason"`
	Terminal   bool             `json:"terminal"`
	ExitCode   *int32           `json:"exit_code"`
	Size       int32            `json:"size"`
	Counts     map[string]int32 `json:"counts"`
	StaleSince *int64           `json:"stale_since"`
	Heartbeat  bool             `json:"heartbeat"`
	Message    string           `json:"message"`
	Error      string           `json:"error"`
	Hang       bool             `json:"hang"`
}

type policyTable struct {
	Policy struct {
		InitialBackoff float64 `json:"initial_backoff_seconds"`
		MaxBackoff     float64 `json:"max_backoff_seconds"`
		Multiplier     float64 `json:"multiplier"`
		Jitter         float64 `json:"jitter"`
		MaxReconnects  int     `json:"max_reconnects"`
	} `json:"policy"`
	Backoff []struct {
		Attempt int     `json:"attempt"`
		Min     float64 `json:"min"`
		Max     float64 `json:"max"`
	} `json:"backoff"`
	SameState []struct {
		Name string    `json:"name"`
		A    tableStep `json:"a"`
		B    tableStep `json:"b"`
		Same bool      `json:"same"`
	} `json:"same_state"`
	Scenarios []struct {
		Name        string        `json:"name"`
		Watch       []string      `json:"watch"`
		TokenSource bool          `json:"token_source"`
		IdleTimeout float64       `json:"idle_timeout"`
		Timeout     float64       `json:"timeout"`
		Streams     [][]tableStep `json:"streams"`
		Expect      struct {
			Events            []string   `json:"events"`
			Reconnects        []int      `json:"reconnects"`
			ReconnectsBetween []int      `json:"reconnects_between"`
			StreamsOpened     int        `json:"streams_opened"`
			Requested         [][]string `json:"requested"`
			End               string     `json:"end"`
			EndReason         string     `json:"end_reason"`
		} `json:"expect"`
	} `json:"scenarios"`
}

func loadPolicyTable(t *testing.T) policyTable {
	t.Helper()
	data, err := os.ReadFile("../../watch-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var table policyTable
	if err := json.Unmarshal(data, &table); err != nil {
		t.Fatal(err)
	}
	return table
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func (s tableStep) pipelineRun() *platformv1.PipelineRun {
	id := s.Run
	if id == "" {
		id = "r1"
	}
	run := &platformv1.PipelineRun{RunId: id, NativeStatus: s.Native, StatusReason: s.Reason, Terminal: s.Terminal,
		ExitCode: s.ExitCode, Message: s.Message}
	if s.Size != 0 || s.Counts != nil {
		run.Array = &platformv1.ArrayJobStatus{Size: s.Size, StatusCounts: s.Counts}
	}
	return run
}

func (s tableStep) stale() *timestamppb.Timestamp {
	if s.StaleSince == nil {
		return nil
	}
	return &timestamppb.Timestamp{Seconds: *s.StaleSince}
}

func codeOf(t *testing.T, name string) codes.Code {
	var c codes.Code
	if err := c.UnmarshalJSON([]byte(`"` + name + `"`)); err != nil {
		t.Fatalf("code %q: %v", name, err)
	}
	return c
}

// tableClient plays one scripted stream per WatchPipelineRun(s) call.
type tableClient struct {
	platformv1.PlatformServiceClient
	t         *testing.T
	mu        sync.Mutex
	streams   [][]tableStep
	requested [][]string
}

type tableStream struct {
	grpc.ClientStream
	ctx   context.Context
	t     *testing.T
	steps []tableStep
}

func (c *tableClient) open(ctx context.Context, ids []string) (*tableStream, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requested = append(c.requested, append([]string(nil), ids...))
	if len(c.requested) > len(c.streams) {
		c.t.Fatalf("stream %d opened, the scenario has %d", len(c.requested), len(c.streams))
	}
	return &tableStream{ctx: ctx, t: c.t, steps: c.streams[len(c.requested)-1]}, nil
}

func (s *tableStream) recv() (tableStep, error) {
	if len(s.steps) == 0 {
		return tableStep{}, errEOF
	}
	st := s.steps[0]
	s.steps = s.steps[1:]
	if st.Hang {
		<-s.ctx.Done()
		return tableStep{}, status.FromContextError(s.ctx.Err()).Err()
	}
	if st.Error != "" {
		st2, err := status.New(codeOf(s.t, st.Error), "scripted "+st.Error).
			WithDetails(&errdetails.ErrorInfo{Reason: st.Reason, Domain: platformclient.Domain})
		if err != nil || st.Reason == "" {
			return tableStep{}, status.Error(codeOf(s.t, st.Error), "scripted "+st.Error)
		}
		return tableStep{}, st2.Err()
	}
	return st, nil
}

var errEOF = ioEOF()

type tableOne struct{ *tableStream }

func (s tableOne) Recv() (*platformv1.WatchPipelineRunResponse, error) {
	st, err := s.recv()
	if err != nil {
		return nil, err
	}
	return &platformv1.WatchPipelineRunResponse{Run: st.pipelineRun(), Heartbeat: st.Heartbeat, StaleSince: st.stale()}, nil
}

type tableMany struct{ *tableStream }

func (s tableMany) Recv() (*platformv1.WatchPipelineRunsResponse, error) {
	st, err := s.recv()
	if err != nil {
		return nil, err
	}
	return &platformv1.WatchPipelineRunsResponse{Run: st.pipelineRun(), Heartbeat: st.Heartbeat, StaleSince: st.stale()}, nil
}

func (c *tableClient) WatchPipelineRun(ctx context.Context, req *platformv1.WatchPipelineRunRequest,
	_ ...grpc.CallOption) (grpc.ServerStreamingClient[platformv1.WatchPipelineRunResponse], error) {
	s, err := c.open(ctx, []string{req.GetRunId()})
	return tableOne{s}, err
}

func (c *tableClient) WatchPipelineRuns(ctx context.Context, req *platformv1.WatchPipelineRunsRequest,
	_ ...grpc.CallOption) (grpc.ServerStreamingClient[platformv1.WatchPipelineRunsResponse], error) {
	s, err := c.open(ctx, req.GetRunIds())
	return tableMany{s}, err
}

func TestWatchPolicyTableScenarios(t *testing.T) {
	table := loadPolicyTable(t)
	p := table.Policy
	backoff := platformclient.Backoff{Initial: seconds(p.InitialBackoff * tableScale), Max: seconds(p.MaxBackoff * tableScale),
		Multiplier: p.Multiplier, Jitter: p.Jitter}
	for _, sc := range table.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			c := &tableClient{t: t, streams: sc.Streams}
			var attempts []int
			opts := []platformclient.Option{platformclient.WithBackoff(backoff), platformclient.WithMaxReconnects(p.MaxReconnects),
				platformclient.WithOnReconnect(func(r platformclient.Reconnect) {
					base := min(p.MaxBackoff, p.InitialBackoff*pow(p.Multiplier, r.Attempt-1)) * tableScale
					if r.Delay < seconds(base*(1-p.Jitter)) || r.Delay > seconds(base*(1+p.Jitter)) {
						t.Errorf("attempt %d waits %v, outside the backoff", r.Attempt, r.Delay)
					}
					attempts = append(attempts, r.Attempt)
				})}
			if sc.TokenSource {
				opts = append(opts, platformclient.WithFreshTokenRetry())
			}
			if sc.IdleTimeout > 0 {
				opts = append(opts, platformclient.WithIdleTimeout(seconds(sc.IdleTimeout*tableScale)))
			}
			ctx := testContext(t)
			if sc.Timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, seconds(sc.Timeout*tableScale))
				defer cancel()
			}
			events := []string{}
			fn := func(ev platformclient.WatchEvent) error {
				words := []string{ev.Run.GetRunId(), ev.Run.GetNativeStatus()}
				if ev.Stale() {
					words = append(words, "stale")
				}
				if ev.Heartbeat {
					words = append(words, "heartbeat")
				}
				events = append(events, strings.Join(words, " "))
				return nil
			}
			var err error
			if len(sc.Watch) == 1 {
				err = platformclient.WatchRun(ctx, c, sc.Watch[0], fn, opts...)
			} else {
				err = platformclient.WatchRuns(ctx, c, sc.Watch, fn, opts...)
			}
			want := sc.Expect
			if want.Events == nil {
				want.Events = []string{}
			}
			if strings.Join(events, "|") != strings.Join(want.Events, "|") {
				t.Errorf("events %q, want %q", events, want.Events)
			}
			if want.ReconnectsBetween != nil {
				if n := len(attempts); n < want.ReconnectsBetween[0] || n > want.ReconnectsBetween[1] {
					t.Errorf("%d reconnects %v, want between %v", n, attempts, want.ReconnectsBetween)
				}
			} else if !equalInts(attempts, want.Reconnects) {
				t.Errorf("reconnects %v, want %v", attempts, want.Reconnects)
			}
			if want.StreamsOpened > 0 && len(c.requested) != want.StreamsOpened {
				t.Errorf("%d streams opened, want %d", len(c.requested), want.StreamsOpened)
			}
			if want.Requested != nil && !equalLists(c.requested, want.Requested) {
				t.Errorf("requested %v, want %v", c.requested, want.Requested)
			}
			switch want.End {
			case "OK":
				if err != nil {
					t.Errorf("err %v, want none", err)
				}
			case "STREAM_ENDED_EARLY":
				if !errors.Is(err, platformclient.ErrStreamEnded) {
					t.Errorf("err %v, want ErrStreamEnded", err)
				}
			default:
				if status.Code(err) != codeOf(t, want.End) || platformclient.Reason(err) != want.EndReason {
					t.Errorf("err %v (reason %q), want %s %q", err, platformclient.Reason(err), want.End, want.EndReason)
				}
			}
		})
	}
}

func TestWatchPolicyTableBackoffIsTheDefault(t *testing.T) {
	table := loadPolicyTable(t)
	p := table.Policy
	want := platformclient.Backoff{Initial: seconds(p.InitialBackoff), Max: seconds(p.MaxBackoff), Multiplier: p.Multiplier, Jitter: p.Jitter}
	if platformclient.DefaultBackoff != want || platformclient.DefaultMaxReconnects != p.MaxReconnects {
		t.Fatalf("DefaultBackoff %+v / %d, the table says %+v / %d", platformclient.DefaultBackoff,
			platformclient.DefaultMaxReconnects, want, p.MaxReconnects)
	}
	for _, row := range table.Backoff {
		for i := 0; i < 50; i++ {
			d := platformclient.DefaultBackoff.Delay(row.Attempt)
			if d < seconds(row.Min)-time.Millisecond || d > seconds(row.Max)+time.Millisecond {
				t.Fatalf("attempt %d: %v outside [%v, %v]", row.Attempt, d, row.Min, row.Max)
			}
		}
	}
}

// The same_state pairs: b after a on one stream is passed on unless the table calls them the same.
func TestWatchPolicyTableSameState(t *testing.T) {
	for _, pair := range loadPolicyTable(t).SameState {
		c := &tableClient{t: t, streams: [][]tableStep{{pair.A, pair.B, {Native: "SUCCEEDED", Terminal: true}}}}
		n := 0
		err := platformclient.WatchRun(testContext(t), c, "r1",
			func(platformclient.WatchEvent) error { n++; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if got := n == 2; got != pair.Same {
			t.Errorf("%s: same=%v, the table says %v", pair.Name, got, pair.Same)
		}
	}
}

func pow(x float64, n int) float64 {
	r := 1.0
	for i := 0; i < n; i++ {
		r *= x
	}
	return r
}

func equalInts(a, b []int) bool {
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

func equalLists(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], ",") != strings.Join(b[i], ",") {
			return false
		}
	}
	return true
}

func ioEOF() error { return io.EOF }
