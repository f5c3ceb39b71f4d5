// Package livestack starts the repository's live test server (`python -m tests.live_stack`:
// the embedded AWS Batch emulator plus the gRPC server) for the Go client's tests.
package livestack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// readyTimeout bounds how long the server may take to print "ready <port>".
const readyTimeout = 60 * time.Second

// Stack is one running live server.
type Stack struct {
	// Addr is "127.0.0.1:<port>"; it stays the same across restarts.
	Addr string

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *lockedBuffer
}

// RepoRoot returns the repository root: the nearest directory above the working directory
// (a package directory under clients/go while testing) holding tests/live_stack.py.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tests", "live_stack.py")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("livestack: no tests/live_stack.py above the working directory")
		}
		dir = parent
	}
}

// Start runs the live server for the test and stops it when the test ends. The server's
// stderr is logged when the test fails.
func Start(t testing.TB) *Stack {
	t.Helper()
	s, err := Launch()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("livestack stderr:\n%s", s.stderr)
		}
	})
	return s
}

// Launch runs the live server and returns once it is ready; [Stack.Stop] stops it. For a
// server shared by several tests (started from TestMain or a sync.Once).
func Launch() (*Stack, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	python := filepath.Join(root, ".venv", "bin", "python")
	if _, err := os.Stat(python); err != nil {
		return nil, fmt.Errorf("livestack: %s missing (run `make setup` at the repository root): %w", python, err)
	}
	cmd := exec.Command(python, "-m", "tests.live_stack")
	cmd.Dir = root
	s := &Stack{cmd: cmd, lines: make(chan string, 16), stderr: &lockedBuffer{}}
	cmd.Stderr = s.stderr
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("livestack: start %s: %w", python, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	port, err := s.awaitReady()
	if err != nil {
		_ = s.Stop()
		return nil, err
	}
	s.Addr = "127.0.0.1:" + port
	return s, nil
}

// Restart makes the server stop (open watch streams end UNAVAILABLE) and serve again on the
// same port with the same emulator state; it returns once the server is ready again. It
// returns an error rather than failing the test, so it may run on another goroutine.
func (s *Stack) Restart() error {
	if _, err := io.WriteString(s.stdin, "restart\n"); err != nil {
		return fmt.Errorf("livestack: restart: %w", err)
	}
	port, err := s.awaitReady()
	if err != nil {
		return err
	}
	if "127.0.0.1:"+port != s.Addr {
		return fmt.Errorf("livestack: restarted on port %s, want %s", port, s.Addr)
	}
	return nil
}

// Client dials the server without TLS and closes the connection when the test ends.
func (s *Stack) Client(t testing.TB) platformv1.PlatformServiceClient {
	t.Helper()
	conn, err := grpc.NewClient(s.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return platformv1.NewPlatformServiceClient(conn)
}

func (s *Stack) awaitReady() (string, error) {
	deadline := time.After(readyTimeout)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				return "", fmt.Errorf("livestack: server exited before it was ready; stderr:\n%s", s.stderr)
			}
			if port, found := strings.CutPrefix(line, "ready "); found {
				return strings.TrimSpace(port), nil
			}
		case <-deadline:
			return "", fmt.Errorf("livestack: not ready after %s; stderr:\n%s", readyTimeout, s.stderr)
		}
	}
}

// Stop closes stdin (the server then stops and exits 0), killing it if it takes too long.
func (s *Stack) Stop() error {
	_ = s.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("livestack: server exited with %v; stderr:\n%s", err, s.stderr)
		}
		return nil
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
		return fmt.Errorf("livestack: server did not stop within 15s; killed it; stderr:\n%s", s.stderr)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
