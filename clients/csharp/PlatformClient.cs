using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Polysync.Platform.V1;

namespace Polysync.Platform.Client;

/// <summary>How <see cref="PlatformClient.Connect"/> reaches the service.</summary>
public sealed class ConnectOptions
{
    /// <summary>PEM of the CA(s) to trust instead of the system's roots (TLS): every certificate of a bundle.</summary>
    public string? TrustedCaPem { get; init; }

    /// <summary>PEM certificate chain and key of a client certificate (mutual TLS).</summary>
    public string? ClientCertificatePem { get; init; }

    /// <inheritdoc cref="ClientCertificatePem"/>
    public string? ClientKeyPem { get; init; }

    /// <summary>A fixed bearer token: <c>authorization: Bearer &lt;token&gt;</c> on every call.</summary>
    public string? BearerToken { get; init; }

    /// <summary>
    /// A token source asked before each call (so it can refresh); the watches then also reconnect
    /// once on Unauthenticated, with a fresh token.
    /// </summary>
    public Func<Task<string>>? TokenSource { get; init; }

    /// <summary>The reconnect policy of the helpers.</summary>
    public ReconnectPolicy Policy { get; init; } = ReconnectPolicy.Default;

    /// <summary>
    /// Reopen a watch stream that sends nothing (not even a heartbeat) this long; set it above the
    /// server's heartbeat interval (30 s by default). Null (the default): never.
    /// </summary>
    public TimeSpan? IdleTimeout { get; init; }
}

/// <summary>
/// A client of the Polysync platform service: <see cref="Stub"/> (the generated client, every
/// RPC) plus helpers that follow the one <see cref="ReconnectPolicy"/>: WatchRunAsync,
/// WatchRunsAsync, StreamLogsAsync, ExecuteAsync (submit and wait), ListPipelinesAsync,
/// ListRunsAsync and the feed helper FollowChangesAsync (why a run failed: <see cref="Runs.ExplainFailure"/>). Each helper takes headers, a timeout (for a watch and ExecuteAsync the
/// whole helper's, reconnects included) and a CancellationToken; leaving an <c>await foreach</c>
/// early disposes the call, which cancels it.
/// </summary>
public sealed class PlatformClient : IDisposable
{
    private static readonly TimeSpan ExecuteAttemptTimeout = TimeSpan.FromSeconds(30);

    private readonly GrpcChannel? _owned;
    private readonly bool _retryUnauthenticated;
    private readonly ReconnectPolicy _policy;
    private readonly TimeSpan? _idleTimeout;

    /// <summary>Wraps a client you built; <paramref name="retryUnauthenticated"/> when its call credentials refresh tokens.</summary>
    public PlatformClient(PlatformService.PlatformServiceClient stub, bool retryUnauthenticated = false,
        ReconnectPolicy? policy = null, TimeSpan? idleTimeout = null)
    {
        Stub = stub;
        _retryUnauthenticated = retryUnauthenticated;
        _policy = policy ?? ReconnectPolicy.Default;
        _idleTimeout = idleTimeout;
    }

    private PlatformClient(GrpcChannel channel, bool retryUnauthenticated, ReconnectPolicy policy, TimeSpan? idleTimeout)
        : this(new PlatformService.PlatformServiceClient(channel), retryUnauthenticated, policy, idleTimeout)
    {
        _owned = channel;
    }

    /// <summary>The generated client, for every RPC.</summary>
    public PlatformService.PlatformServiceClient Stub { get; }

    /// <summary>Waits before a reconnect; replaceable in tests.</summary>
    internal Func<TimeSpan, CancellationToken, Task> Sleep { get; set; } = Task.Delay;

    /// <summary>
    /// Connects to <paramref name="address"/>: "http://host:port" for plaintext, "https://host:port"
    /// for TLS (system roots, or <see cref="ConnectOptions.TrustedCaPem"/>; a client certificate for
    /// mutual TLS). A token travels as CallCredentials; on plaintext (a mesh that terminates TLS, or
    /// loopback) grpc-dotnet needs UnsafeUseInsecureChannelCallCredentials, which is set then.
    /// </summary>
    public static PlatformClient Connect(string address, ConnectOptions? options = null)
    {
        options ??= new ConnectOptions();
        var tls = address.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        if (options.TrustedCaPem is not null)
        {
            // Every certificate of the bundle (CreateFromPem would read only the first).
            var cas = new X509Certificate2Collection();
            cas.ImportFromPem(options.TrustedCaPem);
            if (cas.Count == 0)
            {
                throw new ArgumentException("TrustedCaPem holds no PEM certificate", nameof(options));
            }
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                {
                    return false;
                }
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(cas);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }
        if (options.ClientCertificatePem is not null && options.ClientKeyPem is not null)
        {
            var pem = X509Certificate2.CreateFromPem(options.ClientCertificatePem, options.ClientKeyPem);
            // Re-imported so SslStream can use the key on every platform (Windows needs it).
            var certificate = new X509Certificate2(pem.Export(X509ContentType.Pkcs12));
            handler.SslOptions.ClientCertificates = new X509CertificateCollection { certificate };
        }

        var channelOptions = new GrpcChannelOptions { HttpHandler = handler };
        Func<Task<string>>? tokens = options.TokenSource;
        if (tokens is null && options.BearerToken is not null)
        {
            var fixedToken = options.BearerToken;
            tokens = () => Task.FromResult(fixedToken);
        }
        if (tokens is not null)
        {
            var bearer = CallCredentials.FromInterceptor(async (context, metadata) =>
                metadata.Add("authorization", "Bearer " + await tokens().ConfigureAwait(false)));
            channelOptions.Credentials = ChannelCredentials.Create(
                tls ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure, bearer);
            channelOptions.UnsafeUseInsecureChannelCallCredentials = !tls;
        }
        var channel = GrpcChannel.ForAddress(address, channelOptions);
        return new PlatformClient(channel, options.TokenSource is not null, options.Policy, options.IdleTimeout);
    }

    private static DateTime? DeadlineOf(TimeSpan? timeout) =>
        timeout is null ? null : DateTime.UtcNow + timeout.Value;

    /// <summary>
    /// Each new state of the run (and each heartbeat) until its terminal state, which is the last
    /// event; reconnects per the policy.
    /// </summary>
    public IAsyncEnumerable<RunEvent> WatchRunAsync(string runId, string platform = "",
        Metadata? headers = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WatchAsync(new[] { runId }, (pending, deadline, token) =>
        {
            var call = Stub.WatchPipelineRun(new WatchPipelineRunRequest { Platform = platform, RunId = runId },
                headers, deadline, token);
            return (call, Read(call.ResponseStream, r => (r.Run, r.Heartbeat, r.StaleSince)));
        }, timeout, cancellationToken);

    /// <summary>
    /// Events of many runs (WatchPipelineRuns) until all are terminal; a reconnect watches only the
    /// runs not yet terminal.
    /// </summary>
    public IAsyncEnumerable<RunEvent> WatchRunsAsync(IEnumerable<string> runIds, string platform = "",
        Metadata? headers = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WatchAsync(runIds, (pending, deadline, token) =>
        {
            var request = new WatchPipelineRunsRequest { Platform = platform };
            request.RunIds.Add(pending);
            var call = Stub.WatchPipelineRuns(request, headers, deadline, token);
            return (call, Read(call.ResponseStream, r => (r.Run, r.Heartbeat, r.StaleSince)));
        }, timeout, cancellationToken);

    private static Func<CancellationToken, Task<(PipelineRun, bool, Google.Protobuf.WellKnownTypes.Timestamp?)?>> Read<T>(
        IAsyncStreamReader<T> stream, Func<T, (PipelineRun, bool, Google.Protobuf.WellKnownTypes.Timestamp?)> convert) =>
        async token =>
        {
            if (await stream.MoveNext(token).ConfigureAwait(false))
            {
                return convert(stream.Current);
            }
            return null;
        };

    private async IAsyncEnumerable<RunEvent> WatchAsync(IEnumerable<string> runIds,
        Func<IReadOnlyList<string>, DateTime?, CancellationToken,
            (IDisposable Call, Func<CancellationToken, Task<(PipelineRun, bool, Google.Protobuf.WellKnownTypes.Timestamp?)?>> Next)> open,
        TimeSpan? timeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var state = new WatchState(runIds, _policy, _retryUnauthenticated);
        var deadline = DeadlineOf(timeout);
        while (!state.Done)
        {
            TimeSpan? delay;
            Exception lastError;
            // One token per stream: the caller's, cancelled also by the idle timeout.
            using var stream = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (_idleTimeout is not null)
            {
                stream.CancelAfter(_idleTimeout.Value);
            }
            var (call, next) = open(state.Pending, deadline, stream.Token);
            using (call) // disposing an unfinished call cancels it, e.g. when the caller stops early
            {
                while (true)
                {
                    (PipelineRun Run, bool Heartbeat, Google.Protobuf.WellKnownTypes.Timestamp? Stale)? message;
                    Exception? failure = null;
                    try
                    {
                        message = await next(stream.Token).ConfigureAwait(false);
                    }
                    catch (Exception e) when ((e is RpcException || e is OperationCanceledException)
                        && !cancellationToken.IsCancellationRequested)
                    {
                        message = null;
                        failure = e;
                    }
                    if (failure is not null)
                    {
                        if (stream.IsCancellationRequested) // the idle timeout, not the caller
                        {
                            delay = state.OnIdle() ?? throw new RpcException(new Status(StatusCode.Unavailable,
                                $"the watch stream sent nothing for {_idleTimeout} (idle timeout), too many times in a row"));
                            lastError = failure;
                            break;
                        }
                        var rpcFailure = failure as RpcException;
                        delay = rpcFailure is null ? null : state.OnError(rpcFailure);
                        if (delay is null)
                        {
                            ExceptionDispatchInfo.Capture(failure).Throw();
                        }
                        lastError = failure;
                        break;
                    }
                    if (message is null)
                    {
                        if (state.Done)
                        {
                            yield break;
                        }
                        var ended = new StreamEndedEarlyException(
                            $"the watch stream ended {state.Reconnects + 1} times in a row before " +
                            $"{string.Join(", ", state.Pending)} reached a terminal state");
                        delay = state.OnCleanEnd() ?? throw ended;
                        lastError = ended;
                        break;
                    }
                    if (_idleTimeout is not null)
                    {
                        stream.CancelAfter(_idleTimeout.Value); // a message: the idle clock starts over
                    }
                    var (run, heartbeat, stale) = message.Value;
                    var runEvent = state.OnMessage(run, heartbeat, stale);
                    if (runEvent is not null)
                    {
                        yield return runEvent;
                    }
                    if (state.Done)
                    {
                        yield break;
                    }
                }
            }
            if (deadline is not null && DateTime.UtcNow + delay!.Value >= deadline.Value)
            {
                // No reconnect that the deadline leaves no time for: not made, not waited for.
                throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                    $"the watch's timeout passes before the next reconnect (last error: {lastError.Message})", lastError));
            }
            await Sleep(delay!.Value, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Follows every run's changes (WatchRunChanges, SPEC §12) as an informer; the policy is
    /// clients/feed-policy.json. Without a <paramref name="cursor"/> it starts with a snapshot of
    /// every non-terminal run (then a <see cref="FeedEventKind.SnapshotComplete"/> event). On any
    /// disconnect (Unavailable, ResourceExhausted / AWS_THROTTLED, a clean end, the idle timeout,
    /// once on Unauthenticated with a token source) it resumes from the last cursor received, with
    /// the policy's backoff and budget; <paramref name="onReconnect"/> (attempt, delay, cause) sees
    /// each reconnect. A snapshot is complete only at its SnapshotComplete event: its events before
    /// that carry no cursor (""), and a stream that ends in the middle of it is followed by a new
    /// snapshot. On FailedPrecondition / CURSOR_EXPIRED it relists at once (a
    /// <see cref="FeedEventKind.Relist"/> event, then a new snapshot; a second CURSOR_EXPIRED before
    /// any message is thrown). At a snapshot's end, the runs it had handed out, not terminal yet,
    /// that the snapshot does not list are read with BatchGetPipelineRuns (at most 1000 a call):
    /// each is handed out as a Change of version 0, or as <see cref="FeedEventKind.Gone"/>; a failed
    /// read is handled as the stream's error (the next stream is a new snapshot). A change whose
    /// version is not above the last one handed out for its run is dropped. Every other error is
    /// thrown. It never ends by itself: leave the <c>await foreach</c> or cancel. Store each event's
    /// Cursor once handled to resume later.
    /// <paramref name="inFlight"/>: run ids you know to be in flight, e.g. after a restart the runs
    /// your own store says have not ended. They count as in flight from the start (in the order
    /// given, before any run the helper hands out), so the next snapshot's end (the first one's
    /// without a cursor; with a cursor, after a relist) reads those it does not list and reports
    /// how they ended, as a Change of version 0 or a Gone event. Empty ids are ignored.
    /// </summary>
    public async IAsyncEnumerable<FeedEvent> FollowChangesAsync(string cursor = "", string platform = "",
        IReadOnlyDictionary<string, string>? tags = null, Metadata? headers = null, TimeSpan? timeout = null,
        Action<int, TimeSpan, Exception>? onReconnect = null, IEnumerable<string>? inFlight = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var state = new FeedState(cursor, inFlight, _policy, _retryUnauthenticated);
        var deadline = DeadlineOf(timeout);
        while (true)
        {
            TimeSpan? delay = null;
            Exception? lastError = null;
            var relisted = false;
            Exception? readFailure = null; // a failed read at a snapshot's end: this stream's error
            // One token per stream: the caller's, cancelled also by the idle timeout.
            using var stream = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (_idleTimeout is not null)
            {
                stream.CancelAfter(_idleTimeout.Value);
            }
            using (var call = Stub.WatchRunChanges(state.Request(platform, tags), headers, deadline, stream.Token))
            {
                while (true)
                {
                    WatchRunChangesResponse? message = null;
                    Exception? failure = readFailure;
                    if (failure is null)
                    {
                        try
                        {
                            if (await call.ResponseStream.MoveNext(stream.Token).ConfigureAwait(false))
                            {
                                message = call.ResponseStream.Current;
                            }
                        }
                        catch (Exception e) when ((e is RpcException || e is OperationCanceledException)
                            && !cancellationToken.IsCancellationRequested)
                        {
                            failure = e;
                        }
                    }
                    if (failure is not null)
                    {
                        if (stream.IsCancellationRequested) // the idle timeout, not the caller
                        {
                            delay = state.OnIdle() ?? throw new RpcException(new Status(StatusCode.Unavailable,
                                $"the feed stream sent nothing for {_idleTimeout} (idle timeout), too many times in a row"));
                            lastError = failure;
                            break;
                        }
                        if (failure is RpcException expired && FeedState.IsCursorExpired(expired))
                        {
                            var relist = state.OnCursorExpired();
                            if (relist is null)
                            {
                                ExceptionDispatchInfo.Capture(failure).Throw();
                            }
                            relisted = true;
                            yield return relist!;
                            break;
                        }
                        delay = failure is RpcException rpcFailure ? state.OnError(rpcFailure) : null;
                        if (delay is null)
                        {
                            ExceptionDispatchInfo.Capture(failure).Throw();
                        }
                        lastError = failure;
                        break;
                    }
                    if (message is null)
                    {
                        var ended = new RpcException(new Status(StatusCode.Unavailable,
                            "the feed stream ended (the feed has no end of its own)"));
                        delay = state.OnCleanEnd() ?? throw ended;
                        lastError = ended;
                        break;
                    }
                    if (_idleTimeout is not null)
                    {
                        stream.CancelAfter(_idleTimeout.Value); // a message: the idle clock starts over
                    }
                    foreach (var feedEvent in state.OnMessage(message))
                    {
                        yield return feedEvent;
                    }
                    // At a snapshot's end: the runs in flight that it did not list, read on the feed's
                    // platform with the stream's headers, deadline and token, before its end event.
                    // The reads are not the stream's silence: the idle clock waits for them.
                    var reading = false;
                    for (var ids = state.NextRead(); ids is not null; ids = state.NextRead())
                    {
                        if (!reading && _idleTimeout is not null)
                        {
                            stream.CancelAfter(Timeout.InfiniteTimeSpan);
                        }
                        reading = true;
                        BatchGetPipelineRunsResponse answer;
                        try
                        {
                            answer = await Stub.BatchGetPipelineRunsAsync(
                                new BatchGetPipelineRunsRequest { Platform = platform, RunIds = { ids } },
                                headers, deadline, stream.Token).ConfigureAwait(false);
                        }
                        catch (Exception e) when ((e is RpcException || e is OperationCanceledException)
                            && !cancellationToken.IsCancellationRequested)
                        {
                            readFailure = e; // handled as the stream's error, at the top of the loop
                            break;
                        }
                        foreach (var feedEvent in state.OnRead(answer))
                        {
                            yield return feedEvent;
                        }
                    }
                    if (reading && readFailure is null && _idleTimeout is not null)
                    {
                        stream.CancelAfter(_idleTimeout.Value);
                    }
                    if (readFailure is null && state.Completing)
                    {
                        foreach (var feedEvent in state.Complete())
                        {
                            yield return feedEvent;
                        }
                    }
                }
            }
            if (relisted)
            {
                continue; // at once: no backoff, not a reconnect
            }
            if (deadline is not null && DateTime.UtcNow + delay!.Value >= deadline.Value)
            {
                // No reconnect that the deadline leaves no time for: not made, not waited for.
                throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                    $"the feed's timeout passes before the next reconnect (last error: {lastError!.Message})", lastError));
            }
            onReconnect?.Invoke(state.Reconnects, delay!.Value, lastError!);
            await Sleep(delay!.Value, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The run's CloudWatch log events; with <c>Follow</c> until the run is terminal and its log
    /// drained. Not reconnected: a broken log stream throws.
    /// </summary>
    public async IAsyncEnumerable<LogEvent> StreamLogsAsync(StreamPipelineRunLogsRequest request,
        Metadata? headers = null, TimeSpan? timeout = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var call = Stub.StreamPipelineRunLogs(request, headers, DeadlineOf(timeout), cancellationToken);
        await foreach (var response in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (var logEvent in response.Events)
            {
                yield return logEvent;
            }
        }
    }

    /// <summary>
    /// Submits the run and returns its terminal state. Without a RequestId one is generated, so
    /// retries of ExecutePipeline on Unavailable or DeadlineExceeded (each attempt at most 30 s)
    /// cannot submit twice; the retries follow the policy's backoff and budget.
    /// </summary>
    public async Task<PipelineRun> ExecuteAsync(ExecutePipelineRequest request, Metadata? headers = null,
        TimeSpan? timeout = null, Action<RunEvent>? onEvent = null, CancellationToken cancellationToken = default)
    {
        var submit = request.Clone();
        if (string.IsNullOrEmpty(submit.RequestId))
        {
            submit.RequestId = Guid.NewGuid().ToString();
        }
        var overall = DeadlineOf(timeout);
        ExecutePipelineResponse response;
        for (var attempts = 0; ; attempts++)
        {
            var attemptDeadline = DateTime.UtcNow + ExecuteAttemptTimeout;
            if (overall is not null && overall < attemptDeadline)
            {
                attemptDeadline = overall.Value;
            }
            try
            {
                response = await Stub.ExecutePipelineAsync(submit, headers, attemptDeadline, cancellationToken)
                    .ResponseAsync.ConfigureAwait(false);
                break;
            }
            catch (RpcException error) when ((error.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
                && attempts < _policy.MaxReconnects && (overall is null || DateTime.UtcNow < overall))
            {
                await Sleep(_policy.Backoff(attempts + 1), cancellationToken).ConfigureAwait(false);
            }
        }
        var run = response.Run;
        if (run.Terminal)
        {
            return run;
        }
        var left = overall is null ? (TimeSpan?)null : overall.Value - DateTime.UtcNow;
        await foreach (var runEvent in WatchRunAsync(run.RunId, submit.Platform, headers, left, cancellationToken)
            .ConfigureAwait(false))
        {
            onEvent?.Invoke(runEvent);
            run = runEvent.Run;
        }
        return run;
    }

    /// <summary>Every pipeline (ListPipelines, page after page).</summary>
    public async IAsyncEnumerable<Pipeline> ListPipelinesAsync(ListPipelinesRequest request,
        Metadata? headers = null, TimeSpan? pageTimeout = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var page = request.Clone();
        while (true)
        {
            var response = await Stub.ListPipelinesAsync(page, headers, DeadlineOf(pageTimeout), cancellationToken)
                .ResponseAsync.ConfigureAwait(false);
            foreach (var pipeline in response.Pipelines)
            {
                yield return pipeline;
            }
            if (string.IsNullOrEmpty(response.NextPageToken))
            {
                yield break;
            }
            page.PageToken = response.NextPageToken;
        }
    }

    /// <summary>Every run (ListPipelineRuns, page after page).</summary>
    public async IAsyncEnumerable<PipelineRun> ListRunsAsync(ListPipelineRunsRequest request,
        Metadata? headers = null, TimeSpan? pageTimeout = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var page = request.Clone();
        while (true)
        {
            var response = await Stub.ListPipelineRunsAsync(page, headers, DeadlineOf(pageTimeout), cancellationToken)
                .ResponseAsync.ConfigureAwait(false);
            foreach (var run in response.Runs)
            {
                yield return run;
            }
            if (string.IsNullOrEmpty(response.NextPageToken))
            {
                yield break;
            }
            page.PageToken = response.NextPageToken;
        }
    }

    /// <summary>Disposes the channel if <see cref="Connect"/> made it.</summary>
    public void Dispose() => _owned?.Dispose();
}
