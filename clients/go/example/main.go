// Command example runs the demo pipeline "greet" on polysync-batch and follows it to the end.
//
//	go run ./example -addr 127.0.0.1:50051 -name Ada
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"github.com/polysync/polysync-batch/clients/go/platformclient"
	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "polysync-batch address")
	name := flag.String("name", "Ada", "value of the greet pipeline's name parameter")
	flag.Parse()

	// Plaintext for the local demo; WithCAFile, WithClientCertificate and WithBearerToken otherwise.
	client, err := platformclient.Connect(*addr, platformclient.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	resp, err := client.ExecutePipeline(ctx, &platformv1.ExecutePipelineRequest{
		Pipeline:   "greet",
		Parameters: map[string]string{"name": *name},
	})
	if err != nil {
		log.Fatalf("execute: %v (reason %s)", err, platformclient.Reason(err))
	}
	runID := resp.GetRun().GetRunId()
	fmt.Println("run", runID)

	// Follows the run to its terminal state, reconnecting if the server restarts.
	var final *platformv1.PipelineRun
	err = client.WatchRun(ctx, runID,
		func(ev platformclient.WatchEvent) error {
			if ev.Heartbeat {
				return nil // the server's "still here"; ev.Stale() says if AWS could not be polled
			}
			fmt.Println(ev.Run.GetNativeStatus(), "stale:", ev.Stale())
			final = ev.Run
			return nil
		})
	if err != nil {
		log.Fatalf("watch: %v", err)
	}
	fmt.Println("final", final.GetStatus(), "exit code", final.GetExitCode())
	// Why it failed, if it did: the cause, each attempt (exit code, reason, log stream), advice.
	fmt.Print(platformclient.ExplainFailure(final))
}
