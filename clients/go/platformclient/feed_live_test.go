package platformclient_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/polysync/polysync-batch/clients/go/internal/livestack"
	"github.com/polysync/polysync-batch/clients/go/platformclient"
	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// FollowChanges against the real server on the emulator, with the server process killed
// (SIGKILL) and started again in the middle (tests/live_feed_stack.py: the emulator stays up,
// its jobs go on). SPEC §12: without a history table the killed process's cursor is
// CURSOR_EXPIRED and the helper relists; with the table the cursor outlives the process and the
// helper resumes, missing nothing (not even a run that ended while no server ran). What the
// helper handed out is checked against the jobs the emulator holds.
func TestFollowChangesAcrossAKilledServer(t *testing.T) {
	t.Parallel()
	for _, history := range []bool{false, true} {
		name := map[bool]string{false: "in-process history relists", true: "history table resumes"}[history]
		t.Run(name, func(t *testing.T) { followAcrossAKill(t, history) })
	}
}

type feedLog struct {
	mu         sync.Mutex
	events     []platformclient.FeedEvent
	reconnects int
}

func (l *feedLog) add(ev platformclient.FeedEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

func (l *feedLog) all() []platformclient.FeedEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]platformclient.FeedEvent(nil), l.events...)
}

// last is the native status of the last change handed out of each run.
func (l *feedLog) last() map[string]string {
	out := map[string]string{}
	for _, ev := range l.all() {
		if ev.Kind == platformclient.FeedChange {
			out[ev.Run.GetRunId()] = ev.Run.GetNativeStatus()
		}
	}
	return out
}

func await(t *testing.T, what string, timeout time.Duration, done <-chan error, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case err := <-done:
			t.Fatalf("the feed ended while waiting for %s: %v", what, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func followAcrossAKill(t *testing.T, history bool) {
	ctx, cancel := context.WithTimeout(testContext(t), 3*time.Minute)
	defer cancel()
	stack := livestack.StartFeed(t, history)
	client, err := platformclient.Connect(stack.Addr, platformclient.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	log := &feedLog{}
	followCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- platformclient.FollowChanges(followCtx, client, func(ev platformclient.FeedEvent) error {
			log.add(ev)
			return nil
		},
			platformclient.WithBackoff(platformclient.Backoff{Initial: 200 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: 0.2}),
			platformclient.WithMaxReconnects(60),
			platformclient.WithOnReconnect(func(r platformclient.Reconnect) {
				log.mu.Lock()
				log.reconnects++
				log.mu.Unlock()
				t.Logf("reconnect %d in %s after: %v", r.Attempt, r.Delay, r.Err)
			}))
	}()
	await(t, "snapshot", time.Minute, done, func() bool {
		for _, ev := range log.all() {
			if ev.Kind == platformclient.FeedSnapshotComplete {
				return true
			}
		}
		return false
	})
	submit := func(seconds string) string {
		resp, err := client.ExecutePipeline(ctx, &platformv1.ExecutePipelineRequest{Pipeline: "hello",
			Parameters: map[string]string{"duration_seconds": seconds}},
			grpc.WaitForReady(true)) // the restarted server may still be starting
		if err != nil {
			t.Fatalf("ExecutePipeline: %v", err)
		}
		return resp.GetRun().GetRunId()
	}
	runs := []string{submit("12"), submit("12")}
	if history {
		runs = append(runs, submit("0")) // ends while no server runs
	}
	await(t, "a change of every run before the kill", time.Minute, done, func() bool {
		last := log.last()
		for _, id := range runs {
			if _, ok := last[id]; !ok {
				return false
			}
		}
		return true
	})
	killed := time.Now()
	if err := stack.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("server down for %s", time.Since(killed).Round(100*time.Millisecond))
	runs = append(runs, submit("1"))
	await(t, "the terminal state of every run", 2*time.Minute, done, func() bool {
		last := log.last()
		for _, id := range runs {
			if s := last[id]; s != "SUCCEEDED" && s != "FAILED" {
				return false
			}
		}
		return true
	})
	stop()
	if err := <-done; err != context.Canceled {
		t.Errorf("FollowChanges returned %v, want context.Canceled", err)
	}
	held, err := stack.Jobs()
	if err != nil {
		t.Fatal(err)
	}

	events := log.all()
	var relists []platformclient.FeedEvent
	for _, ev := range events {
		if ev.Kind == platformclient.FeedRelist {
			relists = append(relists, ev)
		}
	}
	if log.reconnects == 0 {
		t.Error("the kill was not seen as a disconnect")
	}
	if history && len(relists) != 0 {
		t.Errorf("%d relists; with a history table the cursor outlives the process (SPEC §12)", len(relists))
	}
	if !history {
		if len(relists) != 1 || platformclient.Reason(relists[0].Err) != platformclient.ReasonCursorExpired {
			t.Errorf("relists %v, want one after CURSOR_EXPIRED", relists)
		}
	}
	t.Logf("%d events, %d reconnects, %d relists", len(events), log.reconnects, len(relists))
	// Nothing handed out twice with the same version: per run, versions only increase (a relist
	// starts the numbering over).
	epoch := 0
	lastVersion := map[string]int64{}
	for _, ev := range events {
		switch ev.Kind {
		case platformclient.FeedRelist:
			epoch++
			lastVersion = map[string]int64{}
		case platformclient.FeedChange:
			id := ev.Run.GetRunId()
			if v, ok := lastVersion[id]; ok && ev.Version <= v {
				t.Errorf("run %s: version %d handed out after %d (epoch %d)", id, ev.Version, v, epoch)
			}
			lastVersion[id] = ev.Version
		}
	}
	// Against the emulator: every job of the queue was handed out, its last state as AWS has it.
	last := log.last()
	if len(held) != len(runs) {
		t.Errorf("the emulator holds %d jobs %v, the test submitted %d", len(held), held, len(runs))
	}
	for _, id := range runs {
		if last[id] != held[id] {
			t.Errorf("run %s: last handed out %q, the emulator has %q", id, last[id], held[id])
		}
	}
}
