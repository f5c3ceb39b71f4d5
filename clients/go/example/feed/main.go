// Command feed follows every change of every run of the platform (the run changes feed),
// printing each with the cursor to resume from; Ctrl-C stops it and prints the last cursor.
//
//	go run ./example/feed -addr 127.0.0.1:50051 [-cursor CURSOR]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/polysync/polysync-batch/clients/go/platformclient"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "polysync-batch address")
	cursor := flag.String("cursor", "", "resume after this cursor (printed by an earlier run)")
	flag.Parse()

	client, err := platformclient.Connect(*addr, platformclient.WithInsecure())
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	// Without a cursor: first the runs not yet ended, then every change. It resumes from the
	// last cursor if the server restarts, and relists if the cursor has expired.
	last := *cursor
	err = client.FollowChanges(ctx, func(ev platformclient.FeedEvent) error {
		switch ev.Kind {
		case platformclient.FeedChange:
			fmt.Println(ev.Run.GetRunId(), fmt.Sprintf("v%d", ev.Version), ev.Run.GetNativeStatus(), "cursor", ev.Cursor)
			fmt.Print(platformclient.ExplainFailure(ev.Run))
		case platformclient.FeedGone: // after a relist: a run you had in flight that AWS forgot
			fmt.Println(ev.Run.GetRunId(), "gone", "cursor", ev.Cursor)
		case platformclient.FeedHeartbeat:
		default: // snapshot_complete, relist
			fmt.Println(ev.Kind, "cursor", ev.Cursor)
		}
		last = ev.Cursor // handled: store it (a file, a database) to resume from
		return nil
	}, platformclient.WithCursor(*cursor))
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Fatalf("feed: %v (reason %s)", err, platformclient.Reason(err))
	}
	fmt.Println("resume with: go run ./example/feed -addr", *addr, "-cursor", last)
}
