package platformclient

import (
	"context"

	"google.golang.org/grpc"

	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// Client is a PlatformService client that owns its connection.
type Client struct {
	platformv1.PlatformServiceClient
	conn *grpc.ClientConn
}

// New connects to the service at target (e.g. "127.0.0.1:50051" or "dns:///batch.internal:443").
// The options must include transport credentials, e.g.
// grpc.WithTransportCredentials(insecure.NewCredentials()) for the local demo server or
// credentials.NewTLS(...) otherwise. Like grpc.NewClient, it does not wait for the server.
func New(target string, opts ...grpc.DialOption) (*Client, error) {
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, err
	}
	return &Client{PlatformServiceClient: platformv1.NewPlatformServiceClient(conn), conn: conn}, nil
}

// Conn returns the underlying connection, e.g. for the health service.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// WatchRun is [WatchRun] on this client.
func (c *Client) WatchRun(ctx context.Context, req *platformv1.WatchPipelineRunRequest,
	fn func(*platformv1.PipelineRun) error, opts ...WatchOption) error {
	return WatchRun(ctx, c.PlatformServiceClient, req, fn, opts...)
}
