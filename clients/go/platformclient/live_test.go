package platformclient_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/polysync/polysync-batch/clients/go/internal/livestack"
	"github.com/polysync/polysync-batch/clients/go/platformclient"
	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// The live tests run against servers with TLS and caller authentication on (SPEC §8.1/§8.2),
// through the client's own connect options (WithCAFile, WithBearerToken, WithTokenSource,
// WithClientCertificate). The tests that do not restart the server share one (each server is a
// python process with the emulator: on a busy 2-core machine a handful of them starting at once
// is what is slow): `--tls --token <liveToken> --reader-token <readerToken> --jwt`.
var (
	sharedOnce  sync.Once
	sharedStack *livestack.Stack
	sharedErr   error

	// liveToken is caller "client" (may submit on demo), readerToken caller "reader" (may only
	// read). Both are random per run, so finding one in the server log means it was logged.
	liveToken   = randomToken()
	readerToken = randomToken()
)

func shared(t *testing.T) *livestack.Stack {
	t.Helper()
	sharedOnce.Do(func() {
		sent.remember(liveToken, readerToken)
		sharedStack, sharedErr = livestack.Launch("--tls", "--token="+liveToken, "--reader-token="+readerToken, "--jwt") // "=": a token may begin with "-"
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedStack
}

// dial connects to the stack with TLS verified against the stack's CA, plus opts (a token, a
// token source, a client certificate), and closes the client when the test ends.
func dial(t *testing.T, stack *livestack.Stack, opts ...platformclient.ConnectOption) *platformclient.Client {
	t.Helper()
	if stack.CAFile == "" {
		t.Fatal("the live stack printed no tls-ca (started without --tls?)")
	}
	client, err := platformclient.Connect(stack.Addr, append([]platformclient.ConnectOption{platformclient.WithCAFile(stack.CAFile)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// dialAsClient is dial with caller "client"'s token: what most live tests use.
func dialAsClient(t *testing.T, stack *livestack.Stack) *platformclient.Client {
	t.Helper()
	if stack == sharedStack {
		sent.calledAs("client")
	}
	return dial(t, stack, platformclient.WithBearerToken(liveToken))
}

// TestMain stops the shared stack after every test, then checks its log (the last check of the
// secured server): it names callers, and holds none of the tokens and JWTs the tests sent.
func TestMain(m *testing.M) {
	code := m.Run()
	if sharedStack != nil {
		err := sharedStack.Stop()
		if err == nil {
			err = checkNoSecretInLog(sharedStack.Stderr())
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "FAIL: shared live stack:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

func execute(ctx context.Context, t *testing.T, client platformv1.PlatformServiceClient,
	pipeline string, params map[string]string) *platformv1.PipelineRun {
	t.Helper()
	resp, err := client.ExecutePipeline(ctx, &platformv1.ExecutePipelineRequest{Pipeline: pipeline, Parameters: params})
	if err != nil {
		t.Fatalf("ExecutePipeline %s: %v", pipeline, err)
	}
	run := resp.GetRun()
	if run.GetRunId() == "" {
		t.Fatalf("ExecutePipeline %s: no run id in %v", pipeline, resp)
	}
	return run
}

// watchAll reads a WatchPipelineRun stream to its end and checks the stream's sequence numbers.
func watchAll(ctx context.Context, t *testing.T, client platformv1.PlatformServiceClient, runID string) []*platformv1.PipelineRun {
	t.Helper()
	stream, err := client.WatchPipelineRun(ctx, &platformv1.WatchPipelineRunRequest{RunId: runID})
	if err != nil {
		t.Fatalf("WatchPipelineRun: %v", err)
	}
	var runs []*platformv1.PipelineRun
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("WatchPipelineRun after %d messages: %v", len(runs), err)
		}
		if want := int64(len(runs) + 1); msg.GetSequence() != want {
			t.Fatalf("message %d has sequence %d, want %d", len(runs)+1, msg.GetSequence(), want)
		}
		if got := msg.GetRun().GetRunId(); got != runID {
			t.Fatalf("message %d is about run %q, want %q", len(runs)+1, got, runID)
		}
		runs = append(runs, msg.GetRun())
	}
	if len(runs) == 0 {
		t.Fatal("WatchPipelineRun ended without a message")
	}
	for i, r := range runs[:len(runs)-1] {
		if r.GetTerminal() {
			t.Fatalf("message %d is terminal (%v) but the stream went on", i+1, r.GetStatus())
		}
	}
	if last := runs[len(runs)-1]; !last.GetTerminal() {
		t.Fatalf("stream ended OK on a non-terminal state %v", last.GetStatus())
	}
	return runs
}

// TestExecuteGreetAndWatchToSuccess submits and watches a run to SUCCEEDED over TLS (the
// stack's CA) with caller "client"'s bearer token.
func TestExecuteGreetAndWatchToSuccess(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(testContext(t), 60*time.Second)
	defer cancel()
	client := dialAsClient(t, shared(t))

	run := execute(ctx, t, client, "greet", map[string]string{"name": "Ada"})
	if run.GetPipeline() != "greet" {
		t.Errorf("run pipeline = %q, want greet", run.GetPipeline())
	}
	runs := watchAll(ctx, t, client, run.GetRunId())
	if len(runs) < 2 {
		t.Errorf("got %d states, want the initial one and at least one change", len(runs))
	}
	final := runs[len(runs)-1]
	if final.GetStatus() != platformv1.RunStatus_RUN_STATUS_SUCCEEDED {
		t.Errorf("final status = %v (%s), want RUN_STATUS_SUCCEEDED", final.GetStatus(), final.GetMessage())
	}
	if final.GetNativeStatus() != "SUCCEEDED" {
		t.Errorf("final native status = %q, want SUCCEEDED", final.GetNativeStatus())
	}
	if final.ExitCode == nil || final.GetExitCode() != 0 {
		t.Errorf("final exit code = %v, want 0", final.ExitCode)
	}
	if got := final.GetParameters()["name"]; got != "Ada" {
		t.Errorf("parameters[name] = %q, want Ada", got)
	}
}

func TestCancelLongRun(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(testContext(t), 60*time.Second)
	defer cancel()
	client := dialAsClient(t, shared(t))

	run := execute(ctx, t, client, "hello", map[string]string{"duration_seconds": "60"})
	resp, err := client.CancelPipelineRun(ctx, &platformv1.CancelPipelineRunRequest{RunId: run.GetRunId()})
	if err != nil {
		t.Fatalf("CancelPipelineRun: %v", err)
	}
	if resp.GetAlreadyTerminal() {
		t.Fatalf("a 60 s run was already terminal: %v", resp.GetRun())
	}
	runs := watchAll(ctx, t, client, run.GetRunId())
	final := runs[len(runs)-1]
	if final.GetStatus() != platformv1.RunStatus_RUN_STATUS_CANCELLED {
		t.Errorf("final status = %v (%s), want RUN_STATUS_CANCELLED", final.GetStatus(), final.GetMessage())
	}
	if final.GetStatusReason() != "Cancelled by Polysync" {
		t.Errorf("status_reason = %q, want %q", final.GetStatusReason(), "Cancelled by Polysync")
	}
}

func TestGetUnknownRunIsNotFound(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(testContext(t), 30*time.Second)
	defer cancel()
	client := dialAsClient(t, shared(t))

	_, err := client.GetPipelineRun(ctx, &platformv1.GetPipelineRunRequest{RunId: randomUUID(t)})
	if code := status.Code(err); code != codes.NotFound {
		t.Fatalf("GetPipelineRun(unknown) = %v, want code NotFound", err)
	}
	info := platformclient.ErrorInfo(err)
	if info == nil {
		t.Fatalf("no google.rpc.ErrorInfo in %v", err)
	}
	if info.GetReason() != platformclient.ReasonRunNotFound || info.GetDomain() != platformclient.Domain {
		t.Errorf("ErrorInfo = %s/%s, want %s/%s", info.GetDomain(), info.GetReason(),
			platformclient.Domain, platformclient.ReasonRunNotFound)
	}
	// A wrapped error keeps its details.
	if got := platformclient.Reason(fmt.Errorf("looking up: %w", err)); got != "RUN_NOT_FOUND" {
		t.Errorf("Reason(wrapped) = %q, want RUN_NOT_FOUND", got)
	}
}

func TestExecuteWithoutRequiredParameter(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(testContext(t), 30*time.Second)
	defer cancel()
	client := dialAsClient(t, shared(t))

	_, err := client.ExecutePipeline(ctx, &platformv1.ExecutePipelineRequest{Pipeline: "greet"})
	if code := status.Code(err); code != codes.InvalidArgument {
		t.Fatalf("ExecutePipeline(greet, no name) = %v, want code InvalidArgument", err)
	}
	if got := platformclient.Reason(err); got != platformclient.ReasonMissingParameters {
		t.Errorf("reason = %q, want MISSING_PARAMETERS", got)
	}
	var fields []string
	for _, v := range platformclient.FieldViolations(err) {
		fields = append(fields, v.GetField())
	}
	// Ref::greeting has a default, so only name is missing.
	if strings.Join(fields, ",") != "parameters[name]" {
		t.Errorf("BadRequest field violations = %q, want exactly [parameters[name]]", fields)
	}
}

func TestWatchRunSurvivesServerRestart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(testContext(t), 60*time.Second)
	defer cancel()
	// Its own server (it restarts it), secured like the shared one: the certificates and the
	// token outlive the restart.
	token := randomToken()
	stack := livestack.Start(t, "--tls", "--token="+token)
	client := dial(t, stack, platformclient.WithBearerToken(token))

	run := execute(ctx, t, client, "hello", map[string]string{"duration_seconds": "4"})
	var reconnects atomic.Int32
	restarted := make(chan error, 1)
	var states []*platformv1.PipelineRun
	err := platformclient.WatchRun(ctx, client, run.GetRunId(),
		func(ev platformclient.WatchEvent) error {
			if ev.Heartbeat {
				return nil
			}
			states = append(states, ev.Run)
			if len(states) == 1 {
				go func() { restarted <- stack.Restart() }()
			}
			return nil
		},
		platformclient.WithBackoff(platformclient.Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: 0.2}),
		platformclient.WithMaxReconnects(30),
		platformclient.WithOnReconnect(func(r platformclient.Reconnect) {
			reconnects.Add(1)
			t.Logf("reconnect %d in %s after: %v", r.Attempt, r.Delay, r.Err)
		}))
	if err != nil {
		t.Fatalf("WatchRun: %v", err)
	}
	if err := <-restarted; err != nil {
		t.Fatal(err)
	}
	if n := reconnects.Load(); n < 1 {
		t.Errorf("observed %d reconnects, want at least 1 (the server restarted mid-watch)", n)
	}
	if len(states) == 0 {
		t.Fatal("WatchRun delivered no state")
	}
	final := states[len(states)-1]
	if final.GetStatus() != platformv1.RunStatus_RUN_STATUS_SUCCEEDED || !final.GetTerminal() {
		t.Errorf("final state = %v terminal=%v, want terminal RUN_STATUS_SUCCEEDED", final.GetStatus(), final.GetTerminal())
	}
	for i := 1; i < len(states); i++ {
		if proto.Equal(states[i], states[i-1]) {
			t.Errorf("state %d delivered twice in a row: %v", i, states[i])
		}
		if states[i-1].GetTerminal() {
			t.Errorf("state %d delivered after the terminal state", i)
		}
	}
	for i, s := range states {
		t.Logf("state %d: %s %s", i+1, s.GetNativeStatus(), s.GetStatus())
	}
	if len(awaitLogLines(stack, `"caller": "client"`, 10*time.Second)) == 0 {
		t.Error(`no access-log line of the restarted stack names caller "client"`)
	}
	if strings.Contains(stack.Stderr(), token) {
		t.Error("the restarted stack's log holds the token")
	}
}

func randomUUID(t *testing.T) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// TestHelpersAgainstLiveServer runs every helper against one live server.
func TestHelpersAgainstLiveServer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(testContext(t), 90*time.Second)
	defer cancel()
	client := dialAsClient(t, shared(t))
	var mine []string // the runs this test submitted, which the paging check must find

	t.Run("Execute waits for the terminal state and deduplicates by request_id", func(t *testing.T) {
		var first *platformv1.ExecutePipelineResponse
		run, err := client.Execute(ctx, &platformv1.ExecutePipelineRequest{Pipeline: "greet", Parameters: map[string]string{"name": "Ada"}},
			platformclient.WithOnSubmitted(func(r *platformv1.ExecutePipelineResponse) { first = r }))
		if err != nil {
			t.Fatal(err)
		}
		if !run.GetTerminal() || run.GetStatus() != platformv1.RunStatus_RUN_STATUS_SUCCEEDED {
			t.Fatalf("Execute returned %v (%s), want a terminal SUCCEEDED run", run.GetStatus(), run.GetMessage())
		}
		if first.GetDeduplicated() || first.GetRun().GetRunId() != run.GetRunId() {
			t.Fatalf("first submit: %v", first)
		}
		// The same request_id again: the same run, deduplicated, already terminal.
		var again *platformv1.ExecutePipelineResponse
		reqID := "go-live-" + randomUUID(t)
		r1, err := client.Execute(ctx, &platformv1.ExecutePipelineRequest{Pipeline: "greet", RequestId: reqID, Parameters: map[string]string{"name": "Bo"}})
		if err != nil {
			t.Fatal(err)
		}
		r2, err := client.Execute(ctx, &platformv1.ExecutePipelineRequest{Pipeline: "greet", RequestId: reqID, Parameters: map[string]string{"name": "Bo"}},
			platformclient.WithOnSubmitted(func(r *platformv1.ExecutePipelineResponse) { again = r }))
		if err != nil {
			t.Fatal(err)
		}
		if !again.GetDeduplicated() || r2.GetRunId() != r1.GetRunId() {
			t.Errorf("resubmit with request_id %s: deduplicated=%v run %s, want true and %s", reqID, again.GetDeduplicated(), r2.GetRunId(), r1.GetRunId())
		}
	})

	t.Run("Execute returns a refused submit with its missing parameter", func(t *testing.T) {
		_, err := client.Execute(ctx, &platformv1.ExecutePipelineRequest{Pipeline: "greet"})
		if got := platformclient.MissingParameters(err); strings.Join(got, ",") != "name" {
			t.Fatalf("MissingParameters(%v) = %q, want [name]", err, got)
		}
	})

	t.Run("WatchRuns follows two runs to their ends", func(t *testing.T) {
		a := execute(ctx, t, client, "greet", map[string]string{"name": "A"})
		b := execute(ctx, t, client, "hello", map[string]string{"exit_code": "3"})
		mine = append(mine, a.GetRunId(), b.GetRunId())
		final := map[string]*platformv1.PipelineRun{}
		err := client.WatchRuns(ctx, []string{a.GetRunId(), b.GetRunId()},
			func(ev platformclient.WatchEvent) error {
				if ev.Stale() {
					t.Logf("stale since %s", ev.StaleSince)
				}
				final[ev.Run.GetRunId()] = ev.Run
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		if final[a.GetRunId()].GetStatus() != platformv1.RunStatus_RUN_STATUS_SUCCEEDED ||
			final[b.GetRunId()].GetStatus() != platformv1.RunStatus_RUN_STATUS_FAILED || final[b.GetRunId()].GetExitCode() != 3 {
			t.Errorf("final states %v / %v, want SUCCEEDED and FAILED exit 3", final[a.GetRunId()], final[b.GetRunId()])
		}
	})

	t.Run("StreamLogs with follow reads the run's output", func(t *testing.T) {
		run := execute(ctx, t, client, "greet", map[string]string{"name": "Logs"})
		mine = append(mine, run.GetRunId())
		var lines []string
		err := client.StreamLogs(ctx, &platformv1.StreamPipelineRunLogsRequest{RunId: run.GetRunId(), Follow: true, StartFromHead: true},
			func(ev *platformv1.LogEvent) error { lines = append(lines, ev.GetMessage()); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(lines, "\n"), "Logs") {
			t.Errorf("log lines %q do not greet Logs", lines)
		}
	})

	t.Run("EachPipeline and EachRun page through everything", func(t *testing.T) {
		var names []string
		if err := platformclient.ListPipelines(ctx, client, &platformv1.ListPipelinesRequest{PageSize: 1},
			func(p *platformv1.Pipeline) error { names = append(names, p.GetName()); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(names) < 3 || !slices.Contains(names, "greet") {
			t.Errorf("pipelines %q, want greet among at least 3", names)
		}
		seen := map[string]bool{}
		if err := platformclient.ListRuns(ctx, client, &platformv1.ListPipelineRunsRequest{PageSize: 2},
			func(r *platformv1.PipelineRun) error { seen[r.GetRunId()] = true; return nil }); err != nil {
			t.Fatal(err)
		}
		// Page size 2 and at least 3 runs of this test: several pages.
		for _, id := range mine {
			if !seen[id] {
				t.Errorf("run %s is missing from the %d runs paged through", id, len(seen))
			}
		}
	})
}
