package platformclient

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// Execute submits a run and waits for it: ExecutePipeline, then [WatchRun] until the run is
// terminal, which it returns (its Status says how it ended; a FAILED run is not an error).
//
// Without a RequestId in req it generates one ([NewRequestID]), so every retry is idempotent:
// it retries ExecutePipeline on UNAVAILABLE and DEADLINE_EXCEEDED (an attempt running out of
// [WithAttemptTimeout]) with the same request_id, after the policy's backoff and within its
// budget, and the server returns the first submit's run instead of submitting again. Other
// errors (e.g. INVALID_ARGUMENT with reason MISSING_PARAMETERS) are returned at once. req is
// not modified. [WithOnSubmitted] learns the run id before the wait.
func Execute(ctx context.Context, client platformv1.PlatformServiceClient,
	req *platformv1.ExecutePipelineRequest, opts ...Option) (*platformv1.PipelineRun, error) {
	cfg := newConfig(opts)
	req = proto.Clone(req).(*platformv1.ExecutePipelineRequest)
	if req.GetRequestId() == "" {
		req.RequestId = NewRequestID()
	}
	r := retrier{cfg: &cfg}
	var resp *platformv1.ExecutePipelineResponse
	for {
		attemptCtx, cancel := ctx, context.CancelFunc(func() {})
		if cfg.attemptTimeout > 0 {
			attemptCtx, cancel = context.WithTimeout(ctx, cfg.attemptTimeout)
		}
		var err error
		resp, err = client.ExecutePipeline(attemptCtx, req)
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil, err
		}
		if code := status.Code(err); code != codes.Unavailable && code != codes.DeadlineExceeded {
			return nil, err
		}
		if giveUp := r.wait(ctx, err); giveUp != nil {
			return nil, giveUp
		}
	}
	if cfg.onSubmitted != nil {
		cfg.onSubmitted(resp)
	}
	final := resp.GetRun()
	if final.GetTerminal() {
		return final, nil
	}
	err := WatchRun(ctx, client, final.GetRunId(),
		func(ev WatchEvent) error {
			final = ev.Run
			return nil
		}, append(opts, WithPlatform(req.GetPlatform()))...)
	if err != nil {
		return nil, err
	}
	return final, nil
}

// NewRequestID returns a random UUID (version 4), the request_id [Execute] uses when none is given.
func NewRequestID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("platformclient: crypto/rand: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// StreamLogs reads StreamPipelineRunLogs and calls fn with each log event, oldest first. With
// req.Follow it returns once the run is terminal and its log drained; without, after the
// events written so far. A log stream that does not exist yet is waited for by the server. It
// does not reconnect (a new stream would repeat lines); fn returning [ErrStop] stops it
// without an error, ctx cancels it.
func StreamLogs(ctx context.Context, client platformv1.PlatformServiceClient,
	req *platformv1.StreamPipelineRunLogsRequest, fn func(*platformv1.LogEvent) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := client.StreamPipelineRunLogs(ctx, req)
	if err != nil {
		return err
	}
	for {
		batch, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, ev := range batch.GetEvents() {
			if err := fn(ev); err != nil {
				return stopped(err)
			}
		}
	}
}

// ListPipelines calls fn with every pipeline of ListPipelines (with req's filters and page
// size), following next_page_token across pages. fn returning [ErrStop] stops it without error.
func ListPipelines(ctx context.Context, client platformv1.PlatformServiceClient,
	req *platformv1.ListPipelinesRequest, fn func(*platformv1.Pipeline) error) error {
	req = proto.Clone(req).(*platformv1.ListPipelinesRequest)
	for {
		resp, err := client.ListPipelines(ctx, req)
		if err != nil {
			return err
		}
		for _, p := range resp.GetPipelines() {
			if err := fn(p); err != nil {
				return stopped(err)
			}
		}
		if resp.GetNextPageToken() == "" {
			return nil
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

// ListRuns calls fn with every run of ListPipelineRuns (with req's filters and page size),
// following next_page_token across pages. fn returning [ErrStop] stops it without error.
func ListRuns(ctx context.Context, client platformv1.PlatformServiceClient,
	req *platformv1.ListPipelineRunsRequest, fn func(*platformv1.PipelineRun) error) error {
	req = proto.Clone(req).(*platformv1.ListPipelineRunsRequest)
	for {
		resp, err := client.ListPipelineRuns(ctx, req)
		if err != nil {
			return err
		}
		for _, r := range resp.GetRuns() {
			if err := fn(r); err != nil {
				return stopped(err)
			}
		}
		if resp.GetNextPageToken() == "" {
			return nil
		}
		req.PageToken = resp.GetNextPageToken()
	}
}

func stopped(err error) error {
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}
