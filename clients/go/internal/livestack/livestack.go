// Package livestack starts the repository's live test server (`python -m tests.live_stack`:
// the embedded AWS Batch emulator plus the gRPC server) for the Go client's tests, with the
// options of its docstring (--tls, --mtls, --token T, --reader-token R, --jwt).
package livestack

import (
	"bufio"
	"bytes"
	"encoding/json"
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
)

// readyTimeout bounds how long the server may take to print "ready <port>".
const readyTimeout = 60 * time.Second

// Stack is one running live server.
type Stack struct {
	// Addr is "127.0.0.1:<port>"; it stays the same across restarts.
	Addr string

	// With --tls or --mtls: the CA to trust (it signed the server's certificate for 127.0.0.1)
	// and a client certificate and key it signed (CN "cert-client"). They outlive restarts.
	CAFile, ClientCertFile, ClientKeyFile string

	// With --jwt: the PKCS8 PEM RSA key to sign RS256 JWTs with (header kid "live"), and the
	// iss and aud claims the server wants.
	JWTKeyFile, JWTIssuer, JWTAudience string

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

// Start runs the live server with the given options (e.g. "--mtls") for the test and stops it
// when the test ends. The server's stderr is logged when the test fails.
func Start(t testing.TB, args ...string) *Stack {
	t.Helper()
	s, err := Launch(args...)
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

// Launch runs the live server with the given options and returns once it is ready;
// [Stack.Stop] stops it. For a server shared by several tests (started from TestMain or a
// sync.Once).
func Launch(args ...string) (*Stack, error) { return launch("tests.live_stack", args) }

// StartFeed runs `python -m tests.live_feed_stack` (the emulator in that process, the server
// as a child process of it, so [Stack.Kill] can kill the server for real while AWS goes on) for
// the test and stops it when the test ends. With history, the demo platform keeps the feed's
// history in the emulator's DynamoDB table.
func StartFeed(t testing.TB, history bool) *Stack {
	t.Helper()
	var args []string
	if history {
		args = append(args, "--history")
	}
	s, err := launch("tests.live_feed_stack", args)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Kill (a [StartFeed] stack only) kills the server process with SIGKILL and starts a new one on
// the same port; it returns once that one is ready.
func (s *Stack) Kill() error {
	if _, err := io.WriteString(s.stdin, "kill\n"); err != nil {
		return fmt.Errorf("livestack: kill: %w", err)
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

// Jobs (a [StartFeed] stack only) returns every job of the emulator's demo queue: job id → status.
func (s *Stack) Jobs() (map[string]string, error) {
	if _, err := io.WriteString(s.stdin, "jobs\n"); err != nil {
		return nil, fmt.Errorf("livestack: jobs: %w", err)
	}
	deadline := time.After(readyTimeout)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				return nil, errors.New("livestack: the stack exited before it listed the jobs")
			}
			if rest, found := strings.CutPrefix(line, "jobs "); found {
				jobs := map[string]string{}
				if err := json.Unmarshal([]byte(rest), &jobs); err != nil {
					return nil, fmt.Errorf("livestack: jobs: %w", err)
				}
				return jobs, nil
			}
		case <-deadline:
			return nil, errors.New("livestack: no job list")
		}
	}
}

func launch(module string, args []string) (*Stack, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	python := filepath.Join(root, ".venv", "bin", "python")
	if _, err := os.Stat(python); err != nil {
		return nil, fmt.Errorf("livestack: %s missing (run `make setup` at the repository root): %w", python, err)
	}
	cmd := exec.Command(python, append([]string{"-m", module}, args...)...)
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

// Stderr returns what the server wrote to stderr so far: with any option, its log (one JSON
// line per RPC, naming the caller).
func (s *Stack) Stderr() string { return s.stderr.String() }

// awaitReady reads stdout up to "ready <port>", taking the file paths and JWT claims printed
// before it.
func (s *Stack) awaitReady() (string, error) {
	deadline := time.After(readyTimeout)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				return "", fmt.Errorf("livestack: server exited before it was ready; stderr:\n%s", s.stderr)
			}
			name, value, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch name {
			case "ready":
				return value, nil
			case "tls-ca":
				s.CAFile = value
			case "tls-client-cert":
				s.ClientCertFile = value
			case "tls-client-key":
				s.ClientKeyFile = value
			case "jwt-key":
				s.JWTKeyFile = value
			case "jwt-issuer":
				s.JWTIssuer = value
			case "jwt-audience":
				s.JWTAudience = value
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
