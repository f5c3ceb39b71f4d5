package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/polysync/polysync-batch/clients/go/internal/livestack"
)

// TestExampleRunsAgainstLiveServer builds the example (its text is quoted in the repository
// README) and runs it against the live server, so the README example stays true.
// testContext is t.Context() for Go 1.22: cancelled when the test ends.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

func TestExampleRunsAgainstLiveServer(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "example")
	if out, err := exec.CommandContext(testContext(t), "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build ./example: %v\n%s", err, out)
	}
	stack := livestack.Start(t)
	out, err := exec.CommandContext(testContext(t), bin, "-addr", stack.Addr, "-name", "Ada").CombinedOutput()
	if err != nil {
		t.Fatalf("example: %v\n%s", err, out)
	}
	text := string(out)
	if !regexp.MustCompile(`(?m)^run \S+$`).MatchString(text) {
		t.Errorf("example printed no run id:\n%s", text)
	}
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if last := lines[len(lines)-1]; last != "final RUN_STATUS_SUCCEEDED exit code 0" {
		t.Errorf("last line = %q, want %q\n%s", last, "final RUN_STATUS_SUCCEEDED exit code 0", text)
	}
	if !strings.Contains(text, "\nSUCCEEDED stale: false\n") {
		t.Errorf("example did not print the SUCCEEDED state:\n%s", text)
	}
}
