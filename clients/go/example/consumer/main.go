// Command consumer is a tour of every helper of the Go client, as a service outside this
// repository uses it: scripts/test-consumers.sh copies it into a module of its own that
// depends on the client, and runs it against a live server.
//
//	go run . -addr 127.0.0.1:50051
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/polysync/polysync-batch/clients/go/platformclient"
	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "polysync-batch address")
	flag.Parse()
	// Plaintext for the local demo. In production: platformclient.WithCAFile("ca.crt"),
	// platformclient.WithClientCertificate("tls.crt", "tls.key"), platformclient.WithTokenSource(fn).
	client, err := platformclient.Connect(*addr, platformclient.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// 1. Every pipeline, page by page.
	pipelines := 0
	err = platformclient.ListPipelines(ctx, client, &platformv1.ListPipelinesRequest{PageSize: 2}, func(p *platformv1.Pipeline) error {
		pipelines++
		fmt.Printf("pipeline %s:%d required=%v\n", p.GetName(), p.GetRevision(), p.GetRequiredParameters())
		return nil
	})
	check(err, "list pipelines")
	fmt.Println("ok list:", pipelines, "pipelines")

	// 2. A refused submit: greet needs its `name` parameter.
	_, err = client.ExecutePipeline(ctx, &platformv1.ExecutePipelineRequest{Pipeline: "greet"})
	if platformclient.Reason(err) != platformclient.ReasonMissingParameters {
		log.Fatalf("submit without name: %v, want reason MISSING_PARAMETERS", err)
	}
	fmt.Println("ok refused: missing", platformclient.MissingParameters(err))

	// 3. One request_id, two submits: one run.
	requestID := platformclient.NewRequestID()
	req := &platformv1.ExecutePipelineRequest{Pipeline: "greet", RequestId: requestID, Parameters: map[string]string{"name": "Ada"}}
	first, err := client.ExecutePipeline(ctx, req)
	check(err, "submit")
	again, err := client.ExecutePipeline(ctx, req)
	check(err, "resubmit")
	if !again.GetDeduplicated() || again.GetRun().GetRunId() != first.GetRun().GetRunId() {
		log.Fatalf("resubmit: deduplicated=%v run %s, want true and %s", again.GetDeduplicated(), again.GetRun().GetRunId(), first.GetRun().GetRunId())
	}
	fmt.Println("ok deduplicated:", again.GetRun().GetRunId())

	// 4. Watch it to the end; each event says whether its state may be stale.
	var last *platformv1.PipelineRun
	err = client.WatchRun(ctx, first.GetRun().GetRunId(),
		func(ev platformclient.WatchEvent) error {
			stale := "none"
			if ev.Stale() {
				stale = ev.StaleSince.Format(time.RFC3339)
			}
			fmt.Printf("event %s heartbeat=%v stale_since=%s\n", ev.Run.GetNativeStatus(), ev.Heartbeat, stale)
			last = ev.Run
			return nil
		})
	check(err, "watch")
	fmt.Println("ok watched:", last.GetStatus())

	// 5. Cancel a long run; the watch ends CANCELLED.
	long, err := client.ExecutePipeline(ctx, &platformv1.ExecutePipelineRequest{Pipeline: "hello", Parameters: map[string]string{"duration_seconds": "60"}})
	check(err, "submit long run")
	_, err = client.CancelPipelineRun(ctx, &platformv1.CancelPipelineRunRequest{RunId: long.GetRun().GetRunId(), Reason: "no longer needed"})
	check(err, "cancel")
	err = client.WatchRun(ctx, long.GetRun().GetRunId(),
		func(ev platformclient.WatchEvent) error { last = ev.Run; return nil })
	check(err, "watch cancelled run")
	fmt.Println("ok cancelled:", last.GetStatus(), last.GetStatusReason())

	// 6. Submit and wait: a request_id is generated, retries are safe, the terminal run comes back.
	run, err := client.Execute(ctx, &platformv1.ExecutePipelineRequest{Pipeline: "greet", Parameters: map[string]string{"name": "Bo"}})
	check(err, "execute")
	fmt.Println("ok executed:", run.GetStatus(), "exit code", run.GetExitCode())

	// 7. Its log, followed to the end.
	err = client.StreamLogs(ctx, &platformv1.StreamPipelineRunLogsRequest{RunId: run.GetRunId(), Follow: true, StartFromHead: true},
		func(ev *platformv1.LogEvent) error { fmt.Println("log:", ev.GetMessage()); return nil })
	check(err, "logs")

	// 8. Every run of the queue, page by page.
	runs := 0
	err = platformclient.ListRuns(ctx, client, &platformv1.ListPipelineRunsRequest{PageSize: 2}, func(*platformv1.PipelineRun) error {
		runs++
		return nil
	})
	check(err, "list runs")
	fmt.Println("ok paged:", runs, "runs")
}

func check(err error, what string) {
	if err == nil {
		return
	}
	var reason string
	if r := platformclient.Reason(err); r != "" {
		reason = " (reason " + r + ")"
	}
	if errors.Is(err, context.DeadlineExceeded) {
		reason += " (deadline)"
	}
	log.Fatalf("%s: %v%s", what, err, reason)
}
