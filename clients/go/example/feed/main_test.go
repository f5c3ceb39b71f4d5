package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/polysync/polysync-batch/clients/go/internal/livestack"
	"github.com/polysync/polysync-batch/clients/go/platformclient"
	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// TestFeedExampleRunsAgainstLiveServer builds the feed example (quoted in the Go client's
// README) and runs it against the live server: a run's changes, each with a cursor, then
// Ctrl-C prints the cursor to resume from.
func TestFeedExampleRunsAgainstLiveServer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "feed")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build ./example/feed: %v\n%s", err, out)
	}
	stack := livestack.Start(t)
	cmd := exec.CommandContext(ctx, bin, "-addr", stack.Addr)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	next := func() string {
		if !lines.Scan() {
			t.Fatalf("the example's output ended: %v", lines.Err())
		}
		return lines.Text()
	}
	if first := next(); !strings.HasPrefix(first, "snapshot_complete cursor ") {
		t.Fatalf("first line %q, want the end of the (empty) snapshot", first)
	}
	client, err := platformclient.Connect(stack.Addr, platformclient.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	resp, err := client.ExecutePipeline(ctx, &platformv1.ExecutePipelineRequest{Pipeline: "hello"}, grpc.WaitForReady(true))
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetRun().GetRunId()
	for {
		words := strings.Fields(next())
		if len(words) == 0 || words[0] != id {
			continue
		}
		if len(words) != 5 || !strings.HasPrefix(words[1], "v") || words[3] != "cursor" {
			t.Fatalf("change line %q, want RUN vN STATUS cursor CURSOR", strings.Join(words, " "))
		}
		if words[2] == "SUCCEEDED" {
			break
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var last string
	for lines.Scan() {
		last = lines.Text()
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("example: %v", err)
	}
	if !strings.HasPrefix(last, "resume with: go run ./example/feed -addr "+stack.Addr+" -cursor ") ||
		strings.HasSuffix(last, "-cursor ") {
		t.Errorf("last line %q, want the cursor to resume from", last)
	}
}

// TestReadmeQuotesTheFeedExample: the Go client's README shows this program verbatim.
func TestReadmeQuotesTheFeedExample(t *testing.T) {
	source, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), strings.TrimSpace(string(source))) {
		t.Error("clients/go/README.md's copy of example/feed/main.go differs")
	}
}
