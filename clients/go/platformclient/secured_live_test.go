package platformclient_test

// Live tests of TLS, mutual TLS and caller authentication (SPEC §8.1/§8.2) against
// tests/live_stack.py, through the client's own connect options. The shared stack
// (live_test.go) runs `--tls --token --reader-token --jwt`; the mutual TLS test starts its own
// `--mtls` stack. TestMain checks the shared stack's log last (checkNoSecretInLog).

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/polysync/polysync-batch/clients/go/internal/livestack"
	"github.com/polysync/polysync-batch/clients/go/platformclient"
	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// secrets records every token and JWT the tests send to the shared stack (or hand it on its
// command line), and the callers they sent them as, for the log check.
type secrets struct {
	mu      sync.Mutex
	list    []string
	callers map[string]bool
}

var sent secrets

func (s *secrets) remember(tokens ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, tokens...)
}

// calledAs records that a test called the shared stack as caller.
func (s *secrets) calledAs(caller string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.callers == nil {
		s.callers = map[string]bool{}
	}
	s.callers[caller] = true
}

// rememberJWT records a JWT and, on its own, its signature part.
func (s *secrets) rememberJWT(jwt string) {
	s.remember(jwt, jwt[strings.LastIndex(jwt, ".")+1:])
}

func (s *secrets) snapshot() (list, callers []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.callers {
		callers = append(callers, c)
	}
	sort.Strings(callers)
	return append([]string(nil), s.list...), callers
}

// randomToken is a fresh opaque bearer token (32 random bytes, base64url).
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// checkNoSecretInLog is the last check of the shared stack: its log has the access-log lines
// naming the callers the tests used, and none of the tokens, JWTs or JWT signatures they sent.
func checkNoSecretInLog(log string) error {
	list, callers := sent.snapshot()
	var problems []string
	if !strings.Contains(log, `"event": "rpc"`) {
		problems = append(problems, `no access-log line ("event": "rpc")`)
	}
	for _, caller := range callers {
		if !strings.Contains(log, `"caller": "`+caller+`"`) {
			problems = append(problems, fmt.Sprintf("no access-log line names caller %q", caller))
		}
	}
	for _, secret := range list {
		if strings.Contains(log, secret) {
			problems = append(problems, fmt.Sprintf("a secret reached the server log: %.6s…", secret))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// jwtMinter signs RS256 JWTs (RSASSA-PKCS1-v1_5 with SHA-256) with the stack's key, with only
// the standard library.
type jwtMinter struct {
	key              *rsa.PrivateKey
	issuer, audience string
}

func newJWTMinter(t *testing.T, stack *livestack.Stack) jwtMinter {
	t.Helper()
	if stack.JWTKeyFile == "" {
		t.Fatal("the live stack printed no jwt-key (started without --jwt?)")
	}
	data, err := os.ReadFile(stack.JWTKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("%s is not a PEM PKCS8 private key", stack.JWTKeyFile)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("%s holds a %T, want an RSA key", stack.JWTKeyFile, parsed)
	}
	return jwtMinter{key: key, issuer: stack.JWTIssuer, audience: stack.JWTAudience}
}

// mint returns a JWT for sub issued now and expiring ttl later (whole seconds, as NumericDate).
func (m jwtMinter) mint(sub string, now time.Time, ttl time.Duration) (string, error) {
	segment := func(v any) (string, error) {
		b, err := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b), err
	}
	header, err := segment(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "live"})
	if err != nil {
		return "", err
	}
	claims, err := segment(map[string]any{"iss": m.issuer, "aud": m.audience, "sub": sub,
		"iat": now.Unix(), "exp": now.Add(ttl).Unix()})
	if err != nil {
		return "", err
	}
	digest := sha256.Sum256([]byte(header + "." + claims))
	sig, err := rsa.SignPKCS1v15(rand.Reader, m.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", err
	}
	return header + "." + claims + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// TestLiveWatchOutlivesShortLivedJWTs: every token the token source mints lives 2 s, the run
// about 5 s. The server ends the watch stream UNAUTHENTICATED at each token's exp; the
// client's WatchRun (connected WithTokenSource, so it retries UNAUTHENTICATED with a fresh
// token) resumes on a new stream until the run is SUCCEEDED.
func TestLiveWatchOutlivesShortLivedJWTs(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(testContext(t), 60*time.Second)
	defer cancel()
	stack := shared(t)
	minter := newJWTMinter(t, stack)
	var mu sync.Mutex
	calls := 0
	source := func(context.Context) (string, error) {
		jwt, err := minter.mint("jwt-client", time.Now(), 2*time.Second)
		if err != nil {
			return "", err
		}
		sent.rememberJWT(jwt)
		mu.Lock()
		calls++
		mu.Unlock()
		return jwt, nil
	}
	sent.calledAs("jwt-client")
	client := dial(t, stack, platformclient.WithTokenSource(source))

	run := execute(ctx, t, client, "hello", map[string]string{"duration_seconds": "4"})
	var reconnectErrs []error
	var last *platformv1.PipelineRun
	err := client.WatchRun(ctx, run.GetRunId(),
		func(ev platformclient.WatchEvent) error { last = ev.Run; return nil },
		platformclient.WithBackoff(platformclient.Backoff{Initial: 50 * time.Millisecond, Max: time.Second, Multiplier: 2}),
		platformclient.WithOnReconnect(func(r platformclient.Reconnect) {
			reconnectErrs = append(reconnectErrs, r.Err)
			t.Logf("reconnect %d after: %v", r.Attempt, r.Err)
		}))
	if err != nil {
		t.Fatalf("WatchRun: %v", err)
	}
	if last.GetStatus() != platformv1.RunStatus_RUN_STATUS_SUCCEEDED || !last.GetTerminal() {
		t.Errorf("final state = %v terminal=%v, want terminal RUN_STATUS_SUCCEEDED", last.GetStatus(), last.GetTerminal())
	}
	unauthenticated := false
	for _, e := range reconnectErrs {
		unauthenticated = unauthenticated || status.Code(e) == codes.Unauthenticated
	}
	if !unauthenticated {
		t.Errorf("reconnects after %v, want one after UNAUTHENTICATED (the server ends a stream at exp)", reconnectErrs)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls < 3 {
		t.Errorf("the token source was called %d times, want at least 3 (submit, first stream, a resumed one)", calls)
	}
}

// TestLiveRefusedCallersGetTheirReasons: a reader may read but not submit; an unknown token
// and no token at all are unauthenticated.
func TestLiveRefusedCallersGetTheirReasons(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(testContext(t), 30*time.Second)
	defer cancel()
	stack := shared(t)

	t.Run("the reader lists pipelines but may not submit", func(t *testing.T) {
		sent.calledAs("reader")
		reader := dial(t, stack, platformclient.WithBearerToken(readerToken))
		list, err := reader.ListPipelines(ctx, &platformv1.ListPipelinesRequest{})
		if err != nil {
			t.Fatalf("ListPipelines as reader: %v", err)
		}
		if len(list.GetPipelines()) == 0 {
			t.Error("ListPipelines as reader: no pipelines")
		}
		_, err = reader.ExecutePipeline(ctx, &platformv1.ExecutePipelineRequest{Pipeline: "hello"})
		if code := status.Code(err); code != codes.PermissionDenied {
			t.Fatalf("ExecutePipeline as reader = %v, want code PermissionDenied", err)
		}
		if got := platformclient.Reason(err); got != platformclient.ReasonCallerNotAllowed {
			t.Errorf("reason = %q, want %s", got, platformclient.ReasonCallerNotAllowed)
		}
		if md := platformclient.ErrorInfo(err).GetMetadata(); md["caller"] != "reader" || md["platform"] != "demo" {
			t.Errorf("ErrorInfo metadata = %v, want caller reader and platform demo", md)
		}
	})

	unknown := randomToken()
	sent.remember(unknown)
	for _, tc := range []struct {
		name string
		opts []platformclient.ConnectOption
	}{
		{"an unknown token is unauthenticated", []platformclient.ConnectOption{platformclient.WithBearerToken(unknown)}},
		{"no token is unauthenticated", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := dial(t, stack, tc.opts...)
			_, err := client.ListPipelines(ctx, &platformv1.ListPipelinesRequest{})
			if code := status.Code(err); code != codes.Unauthenticated {
				t.Fatalf("ListPipelines = %v, want code Unauthenticated", err)
			}
			if got := platformclient.Reason(err); got != platformclient.ReasonCallerUnauthenticated {
				t.Errorf("reason = %q, want %s", got, platformclient.ReasonCallerUnauthenticated)
			}
		})
	}
}

// TestLivePlaintextClientCannotTalkToTheTLSPort: a client connected WithInsecure gets no answer
// from the TLS-only port.
func TestLivePlaintextClientCannotTalkToTheTLSPort(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(testContext(t), 30*time.Second)
	defer cancel()
	stack := shared(t)
	client, err := platformclient.Connect(stack.Addr, platformclient.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	callCtx, callCancel := context.WithTimeout(ctx, 5*time.Second)
	defer callCancel()
	_, err = client.ListPipelines(callCtx, &platformv1.ListPipelinesRequest{})
	if code := status.Code(err); code != codes.Unavailable {
		t.Fatalf("plaintext ListPipelines on the TLS port = %v, want code Unavailable", err)
	}
	t.Logf("refused as expected: %v", err)
}

// TestLiveMutualTLSNamesTheCallerByCertificate: on a `--mtls` stack (no tokens) the client
// certificate alone names the caller ("cert-client", who may submit); without a certificate
// the handshake is refused.
func TestLiveMutualTLSNamesTheCallerByCertificate(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(testContext(t), 60*time.Second)
	defer cancel()
	stack := livestack.Start(t, "--mtls")

	t.Run("a client certificate and no token may submit", func(t *testing.T) {
		client := dial(t, stack, platformclient.WithClientCertificate(stack.ClientCertFile, stack.ClientKeyFile))
		run := execute(ctx, t, client, "hello", nil)
		if run.GetPipeline() != "hello" {
			t.Errorf("run pipeline = %q, want hello", run.GetPipeline())
		}
		// The access-log line of that call (the only submit to this stack) names the CN.
		lines := awaitLogLines(stack, `"method": "ExecutePipeline"`, 10*time.Second)
		if len(lines) != 1 || !strings.Contains(lines[0], `"caller": "cert-client"`) {
			t.Errorf(`access-log lines of ExecutePipeline %q, want one naming caller "cert-client"`, lines)
		}
	})

	t.Run("no client certificate cannot connect", func(t *testing.T) {
		client := dial(t, stack)
		callCtx, callCancel := context.WithTimeout(ctx, 5*time.Second)
		defer callCancel()
		_, err := client.ListPipelines(callCtx, &platformv1.ListPipelinesRequest{})
		if code := status.Code(err); code != codes.Unavailable {
			t.Fatalf("ListPipelines without a client certificate = %v, want code Unavailable (handshake refused)", err)
		}
		t.Logf("refused as expected: %v", err)
	})
}

// awaitLogLines returns the lines of the stack's log that contain substr, waiting up to timeout
// for the first: the server writes an access-log line once the call is done, so it may reach
// stderr after the client has its answer.
func awaitLogLines(stack *livestack.Stack, substr string, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		var lines []string
		for _, l := range strings.Split(stack.Stderr(), "\n") {
			if strings.Contains(l, substr) {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(50 * time.Millisecond)
	}
}
