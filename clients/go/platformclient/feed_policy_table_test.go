package platformclient_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
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

// The scenarios of clients/feed-policy.json, the one feed-helper policy every client replays
// (docs/clients.md, "The feed helper"), against FollowChanges over scripted streams. Backoff
// times are scaled like the watch policy's replay.

type feedItem struct {
	Changes          [][3]any `json:"changes"`
	Cursor           string   `json:"cursor"`
	Heartbeat        bool     `json:"heartbeat"`
	SnapshotComplete bool     `json:"snapshot_complete"`
	StaleSince       string   `json:"stale_since"`
	Error            string   `json:"error"`
	Reason           string   `json:"reason"`
}

type feedRequest struct {
	Cursor   string            `json:"cursor"`
	Snapshot bool              `json:"snapshot"`
	Tags     map[string]string `json:"tags"`
}

// feedBatchGet is one BatchGetPipelineRuns call a scenario expects: the run ids asked for, and
// the answer (runs as [run_id, native_status], missing_run_ids) or the error.
type feedBatchGet struct {
	RunIDs        []string    `json:"run_ids"`
	Runs          [][2]string `json:"runs"`
	MissingRunIDs []string    `json:"missing_run_ids"`
	Error         string      `json:"error"`
	Reason        string      `json:"reason"`
}

type feedTable struct {
	Scenarios []struct {
		Name  string `json:"name"`
		Start struct {
			Cursor   string            `json:"cursor"`
			Tags     map[string]string `json:"tags"`
			InFlight []string          `json:"in_flight"`
		} `json:"start"`
		Streams   [][]feedItem   `json:"streams"`
		BatchGets []feedBatchGet `json:"batch_gets"`
		Expect    struct {
			Requests   []feedRequest `json:"requests"`
			Events     []string      `json:"events"`
			Reconnects []int         `json:"reconnects"`
			Cursor     string        `json:"cursor"`
			End        string        `json:"end"`
			EndReason  string        `json:"end_reason"`
		} `json:"expect"`
	} `json:"scenarios"`
}

func loadFeedTable(t *testing.T) feedTable {
	t.Helper()
	data, err := os.ReadFile("../../feed-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var table feedTable
	if err := json.Unmarshal(data, &table); err != nil {
		t.Fatal(err)
	}
	return table
}

// scriptedRun is a run of the table: terminal when its native status is SUCCEEDED or FAILED.
func scriptedRun(runID, native string) *platformv1.PipelineRun {
	return &platformv1.PipelineRun{RunId: runID, NativeStatus: native, Terminal: native == "SUCCEEDED" || native == "FAILED"}
}

// scriptedErr is the status error of a scripted item, with its ErrorInfo reason.
func scriptedErr(t *testing.T, code, reason string) error {
	st, err := status.New(codeOf(t, code), "scripted "+code).
		WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: platformclient.Domain})
	if err != nil {
		t.Fatal(err)
	}
	return st.Err()
}

func (it feedItem) response(t *testing.T) *platformv1.WatchRunChangesResponse {
	m := &platformv1.WatchRunChangesResponse{Cursor: it.Cursor, Heartbeat: it.Heartbeat, SnapshotComplete: it.SnapshotComplete}
	for _, c := range it.Changes {
		m.Changes = append(m.Changes, &platformv1.RunChange{
			Run:     scriptedRun(c[0].(string), c[2].(string)),
			Version: int64(c[1].(float64)),
		})
	}
	if it.StaleSince != "" {
		at, err := time.Parse(time.RFC3339, it.StaleSince)
		if err != nil {
			t.Fatal(err)
		}
		m.StaleSince = timestamppb.New(at)
	}
	return m
}

// feedClient plays one scripted stream per WatchRunChanges call, and one scripted answer per
// BatchGetPipelineRuns call, and records the requests of both.
type feedClient struct {
	platformv1.PlatformServiceClient
	t         *testing.T
	mu        sync.Mutex
	streams   [][]feedItem
	requests  []*platformv1.WatchRunChangesRequest
	batchGets []feedBatchGet
	reads     []*platformv1.BatchGetPipelineRunsRequest
}

func (c *feedClient) BatchGetPipelineRuns(_ context.Context, req *platformv1.BatchGetPipelineRunsRequest,
	_ ...grpc.CallOption) (*platformv1.BatchGetPipelineRunsResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads = append(c.reads, req)
	if len(c.reads) > len(c.batchGets) {
		c.t.Errorf("BatchGetPipelineRuns call %d (%v), the scenario has %d", len(c.reads), req.GetRunIds(), len(c.batchGets))
		return nil, status.Error(codes.Internal, "unscripted BatchGetPipelineRuns")
	}
	answer := c.batchGets[len(c.reads)-1]
	if answer.Error != "" {
		return nil, scriptedErr(c.t, answer.Error, answer.Reason)
	}
	resp := &platformv1.BatchGetPipelineRunsResponse{MissingRunIds: answer.MissingRunIDs}
	for _, r := range answer.Runs {
		resp.Runs = append(resp.Runs, scriptedRun(r[0], r[1]))
	}
	return resp, nil
}

type feedStream struct {
	grpc.ClientStream
	t     *testing.T
	items []feedItem
}

func (c *feedClient) WatchRunChanges(ctx context.Context, req *platformv1.WatchRunChangesRequest,
	_ ...grpc.CallOption) (grpc.ServerStreamingClient[platformv1.WatchRunChangesResponse], error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = append(c.requests, req)
	if len(c.requests) > len(c.streams) {
		c.t.Fatalf("stream %d opened, the scenario has %d", len(c.requests), len(c.streams))
	}
	return &feedStream{t: c.t, items: c.streams[len(c.requests)-1]}, nil
}

func (s *feedStream) Recv() (*platformv1.WatchRunChangesResponse, error) {
	if len(s.items) == 0 {
		return nil, errEOF
	}
	it := s.items[0]
	s.items = s.items[1:]
	if it.Error != "" {
		return nil, scriptedErr(s.t, it.Error, it.Reason)
	}
	return it.response(s.t), nil
}

// describeFeedEvent writes an event as the table's expect.events does: "change r1 3 RUNNING stale @c1",
// "gone r4 @".
func describeFeedEvent(ev platformclient.FeedEvent) string {
	words := []string{string(ev.Kind)}
	switch ev.Kind {
	case platformclient.FeedChange:
		words = append(words, ev.Run.GetRunId(), strconv.FormatInt(ev.Version, 10), ev.Run.GetNativeStatus())
	case platformclient.FeedGone:
		words = append(words, ev.Run.GetRunId())
	}
	if ev.Stale() {
		words = append(words, "stale")
	}
	return strings.Join(append(words, "@"+ev.Cursor), " ")
}

func TestFeedPolicyTableScenarios(t *testing.T) {
	p := loadPolicyTable(t).Policy
	backoff := platformclient.Backoff{Initial: seconds(p.InitialBackoff * tableScale), Max: seconds(p.MaxBackoff * tableScale),
		Multiplier: p.Multiplier, Jitter: p.Jitter}
	for _, sc := range loadFeedTable(t).Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			c := &feedClient{t: t, streams: sc.Streams, batchGets: sc.BatchGets}
			attempts := []int{}
			events := []string{}
			cursor := sc.Start.Cursor
			opts := []platformclient.Option{platformclient.WithBackoff(backoff), platformclient.WithCursor(sc.Start.Cursor),
				platformclient.WithTags(sc.Start.Tags), platformclient.WithInFlight(sc.Start.InFlight...),
				platformclient.WithOnReconnect(func(r platformclient.Reconnect) {
					base := min(p.MaxBackoff, p.InitialBackoff*pow(p.Multiplier, r.Attempt-1)) * tableScale
					if r.Delay < seconds(base*(1-p.Jitter)) || r.Delay > seconds(base*(1+p.Jitter)) {
						t.Errorf("attempt %d waits %v, outside the backoff", r.Attempt, r.Delay)
					}
					attempts = append(attempts, r.Attempt)
				})}
			err := platformclient.FollowChanges(testContext(t), c, func(ev platformclient.FeedEvent) error {
				events = append(events, describeFeedEvent(ev))
				cursor = ev.Cursor
				return nil
			}, opts...)
			want := sc.Expect
			if want.Events == nil {
				want.Events = []string{}
			}
			if strings.Join(events, "|") != strings.Join(want.Events, "|") {
				t.Errorf("events %q, want %q", events, want.Events)
			}
			var got []string
			for _, r := range c.requests {
				got = append(got, r.GetCursor()+" "+strconv.FormatBool(r.GetSnapshot())+" "+tagsString(r.GetTags())+" "+r.GetPlatform())
			}
			var wantReqs []string
			for _, r := range want.Requests {
				wantReqs = append(wantReqs, r.Cursor+" "+strconv.FormatBool(r.Snapshot)+" "+tagsString(r.Tags)+" ")
			}
			if strings.Join(got, "|") != strings.Join(wantReqs, "|") {
				t.Errorf("requests %q, want %q", got, wantReqs)
			}
			// The reads the helper made, call by call: the run ids in in-flight order, none unscripted.
			var gotReads, wantReads []string
			for _, r := range c.reads {
				gotReads = append(gotReads, strings.Join(r.GetRunIds(), ",")+" "+r.GetPlatform())
			}
			for _, b := range sc.BatchGets {
				wantReads = append(wantReads, strings.Join(b.RunIDs, ",")+" ")
			}
			if strings.Join(gotReads, "|") != strings.Join(wantReads, "|") {
				t.Errorf("BatchGetPipelineRuns calls %q, want %q", gotReads, wantReads)
			}
			if !equalInts(attempts, want.Reconnects) {
				t.Errorf("reconnects %v, want %v", attempts, want.Reconnects)
			}
			// The cursor to store is the last event's (the start cursor before any, "" after a relist).
			if cursor != want.Cursor {
				t.Errorf("cursor %q, want %q", cursor, want.Cursor)
			}
			if status.Code(err) != codeOf(t, want.End) || platformclient.Reason(err) != want.EndReason {
				t.Errorf("err %v (reason %q), want %s %q", err, platformclient.Reason(err), want.End, want.EndReason)
			}
		})
	}
}

func tagsString(tags map[string]string) string {
	var parts []string
	for k, v := range tags {
		parts = append(parts, k+"="+v)
	}
	sortStrings(parts)
	return strings.Join(parts, ",")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// Beyond the table: a relist's reads ask for at most 1000 run ids a call (BatchGetPipelineRuns'
// limit), in the order the runs were first handed out.
func TestFollowChangesReadsAtMost1000RunsACall(t *testing.T) {
	var snapshot [][3]any
	var ids []string
	for i := range 1001 {
		id := "r" + strconv.Itoa(i)
		ids = append(ids, id)
		snapshot = append(snapshot, [3]any{id, float64(1), "RUNNING"})
	}
	c := &feedClient{t: t, streams: [][]feedItem{
		{{Changes: snapshot, Cursor: "c1", SnapshotComplete: true}, {Error: "UNAVAILABLE", Reason: "SERVER_SHUTTING_DOWN"}},
		{{Error: "FAILED_PRECONDITION", Reason: "CURSOR_EXPIRED"}},
		{{Cursor: "k1", SnapshotComplete: true}, {Error: "PERMISSION_DENIED", Reason: "CALLER_NOT_ALLOWED"}},
	}, batchGets: []feedBatchGet{
		{RunIDs: ids[:1000], MissingRunIDs: ids[:1000]},
		{RunIDs: ids[1000:], Runs: [][2]string{{ids[1000], "FAILED"}}},
	}}
	var after []string // what follows the relist
	relisted := false
	err := platformclient.FollowChanges(testContext(t), c, func(ev platformclient.FeedEvent) error {
		if relisted {
			after = append(after, describeFeedEvent(ev))
		}
		relisted = relisted || ev.Kind == platformclient.FeedRelist
		return nil
	}, platformclient.WithBackoff(platformclient.Backoff{Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}))
	if platformclient.Reason(err) != "CALLER_NOT_ALLOWED" {
		t.Fatalf("err %v, want the scripted PERMISSION_DENIED", err)
	}
	if len(c.reads) != 2 || strings.Join(c.reads[0].GetRunIds(), ",") != strings.Join(ids[:1000], ",") ||
		strings.Join(c.reads[1].GetRunIds(), ",") != ids[1000] {
		t.Fatalf("%d BatchGetPipelineRuns calls, want 2: the first 1000 in-flight ids, then the last", len(c.reads))
	}
	var want []string
	for _, id := range ids[:1000] {
		want = append(want, "gone "+id+" @")
	}
	want = append(want, "change r1000 0 FAILED @", "snapshot_complete @k1")
	if strings.Join(after, "|") != strings.Join(want, "|") {
		t.Errorf("after the relist %d events ending %q, want %d ending %q", len(after), after[max(0, len(after)-2):],
			len(want), want[len(want)-2:])
	}
}
