package platformclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// Client is a PlatformService client that owns its connection. Its methods are the generated
// RPCs plus the helpers of this package, which it calls with what it was connected with (a
// token source makes the watch helpers retry once on UNAUTHENTICATED with a fresh token).
type Client struct {
	platformv1.PlatformServiceClient
	conn           *grpc.ClientConn
	hasTokenSource bool
}

// TokenSource returns the bearer token for one call; it is called before every call (and every
// reconnect of a watch), so it may refresh an expiring token. It must be safe for concurrent use.
type TokenSource func(ctx context.Context) (string, error)

type connectConfig struct {
	insecure    bool
	caFile      string
	certFile    string
	keyFile     string
	tlsConfig   *tls.Config
	token       string
	tokenSource TokenSource
	dialOptions []grpc.DialOption
}

// ConnectOption configures [Connect].
type ConnectOption func(*connectConfig)

// WithInsecure connects in plaintext (no TLS), e.g. to the local demo server. Without it New
// uses TLS, verified against the system's roots unless [WithCAFile] or [WithTLSConfig] says
// otherwise.
func WithInsecure() ConnectOption { return func(c *connectConfig) { c.insecure = true } }

// WithCAFile verifies the server's certificate against the PEM CA certificate(s) in file
// instead of the system's roots.
func WithCAFile(file string) ConnectOption { return func(c *connectConfig) { c.caFile = file } }

// WithClientCertificate presents the PEM certificate chain and key in these files to the
// server (mutual TLS; the server's server.tls.client_ca_file must have signed it).
func WithClientCertificate(certFile, keyFile string) ConnectOption {
	return func(c *connectConfig) { c.certFile, c.keyFile = certFile, keyFile }
}

// WithTLSConfig uses cfg as the base TLS configuration (cloned; CA file and client certificate
// options are applied on top).
func WithTLSConfig(cfg *tls.Config) ConnectOption {
	return func(c *connectConfig) { c.tlsConfig = cfg }
}

// WithBearerToken sends `authorization: Bearer <token>` with every call.
func WithBearerToken(token string) ConnectOption { return func(c *connectConfig) { c.token = token } }

// WithTokenSource sends `authorization: Bearer <token>` with every call, asking src for the
// token each time.
func WithTokenSource(src TokenSource) ConnectOption {
	return func(c *connectConfig) { c.tokenSource = src }
}

// WithDialOptions adds gRPC dial options (interceptors, keepalive, a custom dialer, …).
func WithDialOptions(opts ...grpc.DialOption) ConnectOption {
	return func(c *connectConfig) { c.dialOptions = append(c.dialOptions, opts...) }
}

// Connect connects to the service at target (e.g. "127.0.0.1:50051" or "dns:///batch.internal:443").
// By default it uses TLS verified against the system's roots; [WithInsecure] for plaintext.
// Like grpc.NewClient it does not wait for the server: the first call connects.
func Connect(target string, opts ...ConnectOption) (*Client, error) {
	var cfg connectConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.token != "" && cfg.tokenSource != nil {
		return nil, errors.New("platformclient: WithBearerToken and WithTokenSource exclude each other")
	}
	dial := []grpc.DialOption{}
	if cfg.insecure {
		if cfg.caFile != "" || cfg.certFile != "" || cfg.tlsConfig != nil {
			return nil, errors.New("platformclient: WithInsecure excludes the TLS options")
		}
		dial = append(dial, grpc.WithTransportCredentials(insecure.NewCredentials()))
	} else {
		tlsCfg, err := cfg.tls()
		if err != nil {
			return nil, err
		}
		dial = append(dial, grpc.WithTransportCredentials(credentials.NewTLS(tlsCfg)))
	}
	src := cfg.tokenSource
	if cfg.token != "" {
		token := cfg.token
		src = func(context.Context) (string, error) { return token, nil }
	}
	if src != nil {
		dial = append(dial, grpc.WithPerRPCCredentials(bearer{src: src, secure: !cfg.insecure}))
	}
	conn, err := grpc.NewClient(target, append(dial, cfg.dialOptions...)...)
	if err != nil {
		return nil, err
	}
	return &Client{PlatformServiceClient: platformv1.NewPlatformServiceClient(conn), conn: conn,
		hasTokenSource: cfg.tokenSource != nil}, nil
}

func (c connectConfig) tls() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.tlsConfig != nil {
		cfg = c.tlsConfig.Clone()
	}
	if c.caFile != "" {
		pem, err := os.ReadFile(c.caFile)
		if err != nil {
			return nil, fmt.Errorf("platformclient: CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("platformclient: CA file %s holds no PEM certificate", c.caFile)
		}
		cfg.RootCAs = pool
	}
	if c.certFile != "" || c.keyFile != "" {
		cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
		if err != nil {
			return nil, fmt.Errorf("platformclient: client certificate: %w", err)
		}
		cfg.Certificates = append(cfg.Certificates, cert)
	}
	return cfg, nil
}

// bearer is the per-call credential that sends the token as `authorization: Bearer <token>`.
type bearer struct {
	src    TokenSource
	secure bool
}

func (b bearer) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	token, err := b.src(ctx)
	if err != nil {
		return nil, fmt.Errorf("platformclient: token source: %w", err)
	}
	return map[string]string{"authorization": "Bearer " + token}, nil
}

// RequireTransportSecurity is false only on a connection made [WithInsecure] on purpose (a
// loopback address or a mesh that encrypts): then the token travels in clear.
func (b bearer) RequireTransportSecurity() bool { return b.secure }

// Conn returns the underlying connection, e.g. for the health service.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func (c *Client) withDefaults(opts []Option) []Option {
	if c.hasTokenSource {
		return append([]Option{WithFreshTokenRetry()}, opts...)
	}
	return opts
}

// WatchRun is [WatchRun] on this client.
func (c *Client) WatchRun(ctx context.Context, runID string, fn func(WatchEvent) error, opts ...Option) error {
	return WatchRun(ctx, c.PlatformServiceClient, runID, fn, c.withDefaults(opts)...)
}

// WatchRuns is [WatchRuns] on this client.
func (c *Client) WatchRuns(ctx context.Context, runIDs []string, fn func(WatchEvent) error, opts ...Option) error {
	return WatchRuns(ctx, c.PlatformServiceClient, runIDs, fn, c.withDefaults(opts)...)
}

// FollowChanges is [FollowChanges] on this client.
func (c *Client) FollowChanges(ctx context.Context, fn func(FeedEvent) error, opts ...Option) error {
	return FollowChanges(ctx, c.PlatformServiceClient, fn, c.withDefaults(opts)...)
}

// Execute is [Execute] on this client.
func (c *Client) Execute(ctx context.Context, req *platformv1.ExecutePipelineRequest, opts ...Option) (*platformv1.PipelineRun, error) {
	return Execute(ctx, c.PlatformServiceClient, req, c.withDefaults(opts)...)
}

// StreamLogs is [StreamLogs] on this client.
func (c *Client) StreamLogs(ctx context.Context, req *platformv1.StreamPipelineRunLogsRequest,
	fn func(*platformv1.LogEvent) error) error {
	return StreamLogs(ctx, c.PlatformServiceClient, req, fn)
}

// The paging helpers are the package functions [ListPipelines] and [ListRuns] (a method
// ListPipelines would hide the RPC of the same name): platformclient.ListPipelines(ctx, client, req, fn).
