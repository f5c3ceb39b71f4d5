package platformclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/polysync/polysync-batch/clients/go/platformclient"
	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// These unit tests run New against a tiny local gRPC server (127.0.0.1:0) that records the
// authorization metadata and the client certificate it got; secured_live_test.go runs the same
// options against the real server with TLS and caller authentication on.

type recordingServer struct {
	platformv1.UnimplementedPlatformServiceServer
	mu     sync.Mutex
	tokens []string
	cns    []string
}

func (s *recordingServer) GetPipelineRun(ctx context.Context, req *platformv1.GetPipelineRunRequest) (*platformv1.GetPipelineRunResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	md, _ := metadata.FromIncomingContext(ctx)
	s.tokens = append(s.tokens, md.Get("authorization")...)
	if p, ok := peer.FromContext(ctx); ok {
		if info, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(info.State.PeerCertificates) > 0 {
			s.cns = append(s.cns, info.State.PeerCertificates[0].Subject.CommonName)
		}
	}
	return &platformv1.GetPipelineRunResponse{Run: &platformv1.PipelineRun{RunId: req.GetRunId()}}, nil
}

// WatchPipelineRun refuses a stream whose token is "token-1" (expired), else sends a terminal state.
func (s *recordingServer) WatchPipelineRun(req *platformv1.WatchPipelineRunRequest, stream grpc.ServerStreamingServer[platformv1.WatchPipelineRunResponse]) error {
	md, _ := metadata.FromIncomingContext(stream.Context())
	s.mu.Lock()
	s.tokens = append(s.tokens, md.Get("authorization")...)
	s.mu.Unlock()
	if auth := md.Get("authorization"); len(auth) == 0 || auth[0] == "Bearer token-1" {
		return status.Error(codes.Unauthenticated, "token expired")
	}
	return stream.Send(&platformv1.WatchPipelineRunResponse{Sequence: 1, Run: &platformv1.PipelineRun{
		RunId: req.GetRunId(), NativeStatus: "SUCCEEDED", Terminal: true}})
}

func serve(t *testing.T, creds credentials.TransportCredentials) (*recordingServer, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	if creds != nil {
		opts = append(opts, grpc.Creds(creds))
	}
	srv := grpc.NewServer(opts...)
	rec := &recordingServer{}
	platformv1.RegisterPlatformServiceServer(srv, rec)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return rec, lis.Addr().String()
}

// pki writes a CA, a server certificate for 127.0.0.1 and a client certificate (CN scheduler)
// as PEM files into dir.
type pki struct{ dir, ca, serverCert, serverKey, clientCert, clientKey string }

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	p := pki{dir: dir, ca: filepath.Join(dir, "ca.crt"), serverCert: filepath.Join(dir, "server.crt"),
		serverKey: filepath.Join(dir, "server.key"), clientCert: filepath.Join(dir, "client.crt"), clientKey: filepath.Join(dir, "client.key")}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	writePEM(t, p.ca, "CERTIFICATE", caDER)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, ips []net.IP, certFile, keyFile string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: ips,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalECPrivateKey(key)
		writePEM(t, certFile, "CERTIFICATE", der)
		writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
	}
	leaf(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")}, p.serverCert, p.serverKey)
	leaf(3, "scheduler", x509.ExtKeyUsageClientAuth, nil, p.clientCert, p.clientKey)
	return p
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (p pki) serverCreds(t *testing.T) credentials.TransportCredentials {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(p.serverCert, p.serverKey)
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := os.ReadFile(p.ca)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12})
}

func call(t *testing.T, addr string, opts ...platformclient.ConnectOption) error {
	t.Helper()
	client, err := platformclient.Connect(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(testContext(t), 5*time.Second)
	defer cancel()
	_, err = client.GetPipelineRun(ctx, &platformv1.GetPipelineRunRequest{RunId: "job-1"})
	return err
}

func TestNewWithCAClientCertificateAndTokenSource(t *testing.T) {
	p := newPKI(t)
	rec, addr := serve(t, p.serverCreds(t))
	var n int
	var mu sync.Mutex
	src := func(context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("token-%d", n), nil
	}
	client, err := platformclient.Connect(addr, platformclient.WithCAFile(p.ca),
		platformclient.WithClientCertificate(p.clientCert, p.clientKey), platformclient.WithTokenSource(src))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	for range 2 {
		if _, err := client.GetPipelineRun(testContext(t), &platformv1.GetPipelineRunRequest{RunId: "job-1"}); err != nil {
			t.Fatalf("GetPipelineRun over mutual TLS: %v", err)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.tokens) != 2 || rec.tokens[0] != "Bearer token-1" || rec.tokens[1] != "Bearer token-2" {
		t.Errorf("server saw authorization %q, want a fresh token per call", rec.tokens)
	}
	if len(rec.cns) != 2 || rec.cns[0] != "scheduler" {
		t.Errorf("server saw client certificates %q, want CN scheduler", rec.cns)
	}
}

func TestNewTLSFailsWithoutTheRightCAOrCertificate(t *testing.T) {
	p := newPKI(t)
	_, addr := serve(t, p.serverCreds(t))
	// System roots do not know the test CA.
	if err := call(t, addr, platformclient.WithClientCertificate(p.clientCert, p.clientKey)); status.Code(err) != codes.Unavailable {
		t.Errorf("call with system roots = %v, want Unavailable (certificate not trusted)", err)
	}
	// The server requires a client certificate.
	if err := call(t, addr, platformclient.WithCAFile(p.ca)); err == nil {
		t.Errorf("call without a client certificate succeeded; the server requires one")
	}
	if err := call(t, addr, platformclient.WithCAFile(p.ca), platformclient.WithClientCertificate(p.clientCert, p.clientKey)); err != nil {
		t.Errorf("call with CA and client certificate: %v", err)
	}
}

func TestNewPlaintextWithStaticToken(t *testing.T) {
	rec, addr := serve(t, nil)
	if err := call(t, addr, platformclient.WithInsecure(), platformclient.WithBearerToken("s3cret")); err != nil {
		t.Fatal(err)
	}
	if err := call(t, addr, platformclient.WithInsecure()); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.tokens) != 1 || rec.tokens[0] != "Bearer s3cret" {
		t.Errorf("server saw authorization %q, want exactly [Bearer s3cret]", rec.tokens)
	}
}

func TestNewRejectsContradictoryOptions(t *testing.T) {
	if _, err := platformclient.Connect("127.0.0.1:1", platformclient.WithInsecure(), platformclient.WithCAFile("ca.crt")); err == nil {
		t.Error("WithInsecure + WithCAFile accepted")
	}
	src := func(context.Context) (string, error) { return "", nil }
	if _, err := platformclient.Connect("127.0.0.1:1", platformclient.WithBearerToken("a"), platformclient.WithTokenSource(src)); err == nil {
		t.Error("WithBearerToken + WithTokenSource accepted")
	}
}

func TestWatchRunOfAClientWithATokenSourceReconnectsWithAFreshToken(t *testing.T) {
	rec, addr := serve(t, nil)
	n := 0
	client, err := platformclient.Connect(addr, platformclient.WithInsecure(),
		platformclient.WithTokenSource(func(context.Context) (string, error) { n++; return fmt.Sprintf("token-%d", n), nil }))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	var got []string
	err = client.WatchRun(testContext(t), "job-1",
		func(ev platformclient.WatchEvent) error { got = append(got, ev.Run.GetNativeStatus()); return nil }, fast)
	if err != nil || len(got) != 1 || got[0] != "SUCCEEDED" {
		t.Fatalf("WatchRun = %q, %v; want [SUCCEEDED] after one fresh-token reconnect", got, err)
	}
	rec.mu.Lock()
	if len(rec.tokens) != 2 || rec.tokens[0] != "Bearer token-1" || rec.tokens[1] != "Bearer token-2" {
		t.Errorf("streams carried %q, want token-1 then a fresh token-2", rec.tokens)
	}
	rec.mu.Unlock()

	// A static token cannot get fresher: UNAUTHENTICATED is returned at once.
	static, err := platformclient.Connect(addr, platformclient.WithInsecure(), platformclient.WithBearerToken("token-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer static.Close()
	err = static.WatchRun(testContext(t), "job-1",
		func(platformclient.WatchEvent) error { return nil }, fast)
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("WatchRun with a static expired token = %v, want Unauthenticated", err)
	}
}
