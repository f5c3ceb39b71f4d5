package io.polysync.platform.client;

import io.grpc.CallCredentials;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptors;
import io.grpc.CompositeChannelCredentials;
import io.grpc.Deadline;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import io.polysync.platform.v1.ExecutePipelineRequest;
import io.polysync.platform.v1.ExecutePipelineResponse;
import io.polysync.platform.v1.ListPipelineRunsRequest;
import io.polysync.platform.v1.ListPipelineRunsResponse;
import io.polysync.platform.v1.ListPipelinesRequest;
import io.polysync.platform.v1.ListPipelinesResponse;
import io.polysync.platform.v1.Pipeline;
import io.polysync.platform.v1.PipelineRun;
import io.polysync.platform.v1.PlatformServiceGrpc;
import io.polysync.platform.v1.PlatformServiceGrpc.PlatformServiceBlockingStub;
import io.polysync.platform.v1.PlatformServiceGrpc.PlatformServiceStub;
import io.polysync.platform.v1.StreamPipelineRunLogsRequest;
import io.polysync.platform.v1.WatchPipelineRunRequest;
import io.polysync.platform.v1.WatchPipelineRunResponse;
import io.polysync.platform.v1.WatchPipelineRunsRequest;
import io.polysync.platform.v1.WatchPipelineRunsResponse;
import io.polysync.platform.v1.WatchRunChangesRequest;
import io.polysync.platform.v1.WatchRunChangesResponse;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A client of the Polysync platform service: the generated stubs ({@link #blockingStub()}, {@link
 * #asyncStub()}) plus helpers that follow the one {@link ReconnectPolicy}: {@link #watchRun},
 * {@link #watchRuns}, {@link #streamLogs}, {@link #execute} (submit and wait), the paging
 * {@link #listPipelines} / {@link #listRuns}, and the feed helper {@link #followChanges}.
 *
 * <pre>{@code
 * try (PlatformClient client = PlatformClient.connect("batch.example:443")
 *     .trustCertificates(caPem).tokenSupplier(tokens::current).build()) {
 *   PipelineRun run = client.execute(request, Duration.ofMinutes(30));
 * }
 * }</pre>
 *
 * <p>A timeout of {@code null} means none. For a watch and {@code execute} the timeout covers the
 * whole helper, reconnects included; for paging, each page.
 */
public final class PlatformClient implements AutoCloseable {
  private static final Duration EXECUTE_ATTEMPT_TIMEOUT = Duration.ofSeconds(30);

  private final Channel channel;
  private final ManagedChannel owned;
  // The channel underneath, when known: the feed resets its connect backoff before a reconnect.
  private final ManagedChannel connection;
  private final boolean retryUnauthenticated;
  private final ReconnectPolicy policy;
  private final RunWatch.Sleeper sleeper;
  private final DoubleSupplier random;
  private final Duration idleTimeout;

  PlatformClient(Channel channel, ManagedChannel owned, boolean retryUnauthenticated,
      ReconnectPolicy policy, RunWatch.Sleeper sleeper, DoubleSupplier random) {
    this(channel, owned, retryUnauthenticated, policy, sleeper, random, null);
  }

  PlatformClient(Channel channel, ManagedChannel owned, boolean retryUnauthenticated,
      ReconnectPolicy policy, RunWatch.Sleeper sleeper, DoubleSupplier random, Duration idleTimeout) {
    this(channel, owned, owned != null ? owned : channel instanceof ManagedChannel m ? m : null,
        retryUnauthenticated, policy, sleeper, random, idleTimeout);
  }

  private PlatformClient(Channel channel, ManagedChannel owned, ManagedChannel connection,
      boolean retryUnauthenticated, ReconnectPolicy policy, RunWatch.Sleeper sleeper,
      DoubleSupplier random, Duration idleTimeout) {
    this.channel = channel;
    this.owned = owned;
    this.connection = connection;
    this.retryUnauthenticated = retryUnauthenticated;
    this.policy = policy;
    this.sleeper = sleeper;
    this.random = random;
    this.idleTimeout = idleTimeout;
  }

  /**
   * A builder of a client with its own channel to {@code target} ("host:port"):
   * {@code PlatformClient.connect(target).trustCertificates(ca).build()}.
   */
  public static Builder connect(String target) {
    return new Builder(target);
  }

  /**
   * A client over a channel you manage ({@link #close()} leaves it open). Pass {@code
   * retryUnauthenticated} true when the channel's call credentials refresh their token, so the
   * watches reconnect once on UNAUTHENTICATED.
   */
  public static PlatformClient wrap(Channel channel, boolean retryUnauthenticated) {
    return new PlatformClient(channel, null, retryUnauthenticated, ReconnectPolicy.DEFAULT,
        d -> TimeUnit.NANOSECONDS.sleep(d.toNanos()), () -> ThreadLocalRandom.current().nextDouble());
  }

  /** This client with {@code headers} added to every call it makes (its helpers' too). */
  public PlatformClient withHeaders(Metadata headers) {
    Channel intercepted = ClientInterceptors.intercept(channel,
        MetadataUtils.newAttachHeadersInterceptor(headers));
    return new PlatformClient(intercepted, null, connection, retryUnauthenticated, policy, sleeper, random, idleTimeout);
  }

  /** This client with another reconnect policy. */
  public PlatformClient withPolicy(ReconnectPolicy policy) {
    return new PlatformClient(channel, null, connection, retryUnauthenticated, policy, sleeper, random, idleTimeout);
  }

  /**
   * This client with an idle timeout for its watches: a stream that sends nothing (not even a
   * heartbeat) this long is reopened. Set it above the server's heartbeat interval (30 s by
   * default); {@code null} (the default) disables it.
   */
  public PlatformClient withIdleTimeout(Duration idleTimeout) {
    return new PlatformClient(channel, null, connection, retryUnauthenticated, policy, sleeper, random, idleTimeout);
  }

  /**
   * This client with a default deadline for every unary call (the stubs' and the helpers') that
   * has none of its own; streams are not given one (a watch's timeout is its own).
   */
  public PlatformClient withDefaultDeadline(Duration deadline) {
    return new PlatformClient(ClientInterceptors.intercept(channel, new DefaultDeadline(deadline)), null, connection,
        retryUnauthenticated, policy, sleeper, random, idleTimeout);
  }

  PlatformClient withSleeper(RunWatch.Sleeper sleeper) {
    return new PlatformClient(channel, null, connection, retryUnauthenticated, policy, sleeper, random, idleTimeout);
  }

  /** Gives unary calls without a deadline this one. */
  private static final class DefaultDeadline implements ClientInterceptor {
    private final Duration deadline;

    DefaultDeadline(Duration deadline) {
      this.deadline = Objects.requireNonNull(deadline, "deadline");
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options,
        Channel next) {
      if (method.getType() == MethodDescriptor.MethodType.UNARY && options.getDeadline() == null) {
        options = options.withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS);
      }
      return next.newCall(method, options);
    }
  }

  /** The blocking stub, for every RPC; set a deadline per call with {@code withDeadlineAfter}. */
  public PlatformServiceBlockingStub blockingStub() {
    return PlatformServiceGrpc.newBlockingStub(channel);
  }

  /** The asynchronous (StreamObserver) stub. */
  public PlatformServiceStub asyncStub() {
    return PlatformServiceGrpc.newStub(channel);
  }

  /** The channel the stubs use. */
  public Channel channel() {
    return channel;
  }

  private PlatformServiceBlockingStub stub(Deadline deadline) {
    PlatformServiceBlockingStub stub = blockingStub();
    return deadline == null ? stub : stub.withDeadline(deadline);
  }

  private static Deadline deadline(Duration timeout) {
    return timeout == null ? null : Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Watches one run of the default platform; see {@link #watchRun(String, String, Duration, RunWatch.ReconnectListener)}. */
  public RunWatch watchRun(String runId, Duration timeout) {
    return watchRun("", runId, timeout, null);
  }

  /**
   * Each new state of the run (and each heartbeat) until its terminal state, which is the last
   * event; reconnects per the policy. {@code listener} (may be null) sees each reconnect.
   */
  public RunWatch watchRun(String platform, String runId, Duration timeout,
      RunWatch.ReconnectListener listener) {
    Deadline overall = deadline(timeout);
    PlatformServiceBlockingStub stub = stub(overall);
    WatchPipelineRunRequest request =
        WatchPipelineRunRequest.newBuilder().setPlatform(platform).setRunId(runId).build();
    Function<List<String>, Iterator<RunWatch.Message>> open = pending -> map(
        stub.watchPipelineRun(request), (WatchPipelineRunResponse r) ->
            new RunWatch.Message(r.getRun(), r.getHeartbeat(), r.getStaleSince(), r.hasStaleSince()));
    return new RunWatch(open, new WatchState(List.of(runId), policy, retryUnauthenticated, random),
        sleeper, listener, overall, idleTimeout);
  }

  /** Watches many runs of the default platform; see {@link #watchRuns(String, List, Duration, RunWatch.ReconnectListener)}. */
  public RunWatch watchRuns(List<String> runIds, Duration timeout) {
    return watchRuns("", runIds, timeout, null);
  }

  /**
   * Events of many runs (WatchPipelineRuns) until all are terminal; a reconnect watches only the
   * runs not yet terminal.
   */
  public RunWatch watchRuns(String platform, List<String> runIds, Duration timeout,
      RunWatch.ReconnectListener listener) {
    Deadline overall = deadline(timeout);
    PlatformServiceBlockingStub stub = stub(overall);
    Function<List<String>, Iterator<RunWatch.Message>> open = pending -> map(
        stub.watchPipelineRuns(WatchPipelineRunsRequest.newBuilder().setPlatform(platform)
            .addAllRunIds(pending).build()), (WatchPipelineRunsResponse r) ->
            new RunWatch.Message(r.getRun(), r.getHeartbeat(), r.getStaleSince(), r.hasStaleSince()));
    return new RunWatch(open, new WatchState(runIds, policy, retryUnauthenticated, random),
        sleeper, listener, overall, idleTimeout);
  }

  /** Follows every run's changes on the default platform from {@code cursor} ("" for a snapshot first); see {@link #followChanges(String, Map, String, Collection, Duration, RunWatch.ReconnectListener)}. */
  public ChangeFeed followChanges(String cursor) {
    return followChanges("", Map.of(), cursor, List.of(), null, null);
  }

  /**
   * {@link #followChanges(String, Map, String, Collection, Duration, RunWatch.ReconnectListener)}
   * with no run known to be in flight.
   */
  public ChangeFeed followChanges(String platform, Map<String, String> tags, String cursor,
      Duration timeout, RunWatch.ReconnectListener listener) {
    return followChanges(platform, tags, cursor, List.of(), timeout, listener);
  }

  /**
   * Follows every run's changes (WatchRunChanges, SPEC §12) as an informer: see {@link ChangeFeed}.
   * Without a {@code cursor} ("" or null) it starts with a snapshot of every non-terminal run;
   * with one it resumes after it. {@code tags} (may be empty) keeps only runs whose tags include
   * all of these; {@code timeout} (may be null) covers every reconnect; {@code listener} (may be
   * null) sees each reconnect. The client's idle timeout and token supplier apply as for the
   * watches. Close the feed (try-with-resources) to stop it.
   *
   * <p>{@code inFlight} (may be null or empty) are run ids you know to be in flight, e.g. after a
   * restart the runs your own store says have not ended: the feed counts them in flight from the
   * start (in this order, before any run it hands out), so the next snapshot's end (the first
   * one's without a cursor; with a cursor, after a relist) reads those it does not list and
   * reports how they ended, as a change of version 0 or a GONE event. Empty ids are ignored.
   */
  public ChangeFeed followChanges(String platform, Map<String, String> tags, String cursor,
      Collection<String> inFlight, Duration timeout, RunWatch.ReconnectListener listener) {
    Deadline overall = deadline(timeout);
    PlatformServiceBlockingStub stub = stub(overall);
    WatchRunChangesRequest base = WatchRunChangesRequest.newBuilder()
        .setPlatform(platform == null ? "" : platform)
        .putAllTags(tags == null ? Map.of() : tags)
        .setCursor(cursor == null ? "" : cursor)
        .build();
    // grpc-java's channel has a connect backoff of its own (1 s growing to 2 min): after a long
    // outage it would fail every reopened stream fast, UNAVAILABLE, until its next connect attempt,
    // and spend the feed's reconnect budget. The feed's backoff is the one in charge: reset it.
    ManagedChannel managed = connection;
    Function<WatchRunChangesRequest, Iterator<WatchRunChangesResponse>> open = request -> {
      if (managed != null) {
        managed.resetConnectBackoff();
      }
      return stub.watchRunChanges(request);
    };
    // At a snapshot's end, the runs in flight that it does not list: same stub (deadline, headers).
    return new ChangeFeed(open, stub::batchGetPipelineRuns, base, inFlight == null ? List.of() : inFlight,
        new WatchState(List.of(), policy, retryUnauthenticated, random), sleeper, listener, overall,
        idleTimeout);
  }

  /**
   * The run's CloudWatch log events; with {@code follow} until the run is terminal and its log
   * drained. Close the stream when leaving early.
   */
  public LogStream streamLogs(StreamPipelineRunLogsRequest request, Duration timeout) {
    PlatformServiceBlockingStub stub = stub(deadline(timeout));
    return new LogStream(() -> stub.streamPipelineRunLogs(request));
  }

  /** Submits and waits for the terminal state; see {@link #execute(ExecutePipelineRequest, Duration, Consumer)}. */
  public PipelineRun execute(ExecutePipelineRequest request, Duration timeout) {
    return execute(request, timeout, null);
  }

  /**
   * Submits the run and returns its terminal state. Without a {@code request_id} one is generated,
   * so retries of ExecutePipeline on UNAVAILABLE or DEADLINE_EXCEEDED (each attempt at most 30 s)
   * cannot submit twice; the retries follow the policy's backoff and budget. {@code onEvent} (may
   * be null) sees each watch event.
   */
  public PipelineRun execute(ExecutePipelineRequest request, Duration timeout,
      Consumer<RunEvent> onEvent) {
    ExecutePipelineRequest submit = request.getRequestId().isEmpty()
        ? request.toBuilder().setRequestId(UUID.randomUUID().toString()).build()
        : request;
    Deadline overall = deadline(timeout);
    ExecutePipelineResponse response;
    int attempts = 0;
    while (true) {
      Deadline attempt = deadline(EXECUTE_ATTEMPT_TIMEOUT);
      if (overall != null && overall.isBefore(attempt)) {
        attempt = overall;
      }
      try {
        response = stub(attempt).executePipeline(submit);
        break;
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        boolean retryable = code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
        if (!retryable || attempts >= policy.maxReconnects() || (overall != null && overall.isExpired())) {
          throw e;
        }
        attempts++;
        Duration delay = policy.backoff(attempts, random);
        if (overall != null && overall.timeRemaining(TimeUnit.NANOSECONDS) <= delay.toNanos()) {
          throw Status.DEADLINE_EXCEEDED.withDescription("execute's timeout passes before the next "
              + "attempt (last error: " + e.getMessage() + ")").withCause(e).asRuntimeException();
        }
        try {
          sleeper.sleep(delay);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw Status.CANCELLED.withCause(interrupted).asRuntimeException();
        }
      }
    }
    PipelineRun run = response.getRun();
    if (run.getTerminal()) {
      return run;
    }
    Duration left = overall == null ? null : Duration.ofNanos(overall.timeRemaining(TimeUnit.NANOSECONDS));
    try (RunWatch watch = watchRun(submit.getPlatform(), run.getRunId(), left, null)) {
      while (watch.hasNext()) {
        RunEvent event = watch.next();
        if (onEvent != null) {
          onEvent.accept(event);
        }
        run = event.run();
      }
    }
    return run;
  }

  /** Every pipeline (ListPipelines, page after page, each page within {@code pageTimeout}). */
  public Iterable<Pipeline> listPipelines(ListPipelinesRequest request, Duration pageTimeout) {
    return () -> new Pages<ListPipelinesResponse, Pipeline>(token -> stub(deadline(pageTimeout))
        .listPipelines(request.toBuilder().setPageToken(token).build()),
        ListPipelinesResponse::getPipelinesList, ListPipelinesResponse::getNextPageToken,
        request.getPageToken());
  }

  /** Every run (ListPipelineRuns, page after page, each page within {@code pageTimeout}). */
  public Iterable<PipelineRun> listRuns(ListPipelineRunsRequest request, Duration pageTimeout) {
    return () -> new Pages<ListPipelineRunsResponse, PipelineRun>(token -> stub(deadline(pageTimeout))
        .listPipelineRuns(request.toBuilder().setPageToken(token).build()),
        ListPipelineRunsResponse::getRunsList, ListPipelineRunsResponse::getNextPageToken,
        request.getPageToken());
  }

  /**
   * Shuts the channel down if this client built it (waiting up to 5 s for it to terminate). Throws
   * no checked exception: an interrupt while waiting is kept as the thread's interrupt status.
   */
  @Override
  public void close() {
    if (owned != null) {
      try {
        owned.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static <T> Iterator<RunWatch.Message> map(Iterator<T> responses,
      Function<T, RunWatch.Message> convert) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return responses.hasNext();
      }

      @Override
      public RunWatch.Message next() {
        return convert.apply(responses.next());
      }
    };
  }

  private static final class Pages<R, T> implements Iterator<T> {
    private final Function<String, R> fetch;
    private final Function<R, List<T>> items;
    private final Function<R, String> nextToken;
    private Iterator<T> page = Collections.emptyIterator();
    private String token;

    Pages(Function<String, R> fetch, Function<R, List<T>> items, Function<R, String> nextToken,
        String first) {
      this.fetch = fetch;
      this.items = items;
      this.nextToken = nextToken;
      this.token = first;
    }

    @Override
    public boolean hasNext() {
      while (!page.hasNext() && token != null) {
        R response = fetch.apply(token);
        page = items.apply(response).iterator();
        String following = nextToken.apply(response);
        token = following.isEmpty() ? null : following;
      }
      return page.hasNext();
    }

    @Override
    public T next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return page.next();
    }
  }

  /**
   * Builds a client with its own channel: plaintext unless {@link #useTls()}, {@link
   * #trustCertificates} or {@link #clientCertificate} is given. Needs a gRPC transport on the
   * classpath (e.g. {@code io.grpc:grpc-netty-shaded}, or grpc-okhttp on Android).
   */
  public static final class Builder {
    private final String target;
    private boolean tls;
    private byte[] trustPem;
    private byte[] certChainPem;
    private byte[] keyPem;
    private CallCredentials callCredentials;
    private boolean refreshingToken;
    private ReconnectPolicy policy = ReconnectPolicy.DEFAULT;
    private String authority;
    private Duration defaultDeadline;
    private Duration idleTimeout;

    private Builder(String target) {
      this.target = Objects.requireNonNull(target, "target");
    }

    /** TLS with the system's trusted roots. */
    public Builder useTls() {
      tls = true;
      return this;
    }

    /** TLS trusting the CA certificates in {@code pem} (instead of the system's roots). */
    public Builder trustCertificates(byte[] pem) {
      tls = true;
      trustPem = pem.clone();
      return this;
    }

    /**
     * TLS with this client certificate (mutual TLS): a PEM chain and its unencrypted PEM private
     * key, PKCS#8, PKCS#1 RSA or SEC1 EC (the latter two are rewrapped as the PKCS#8 grpc-java
     * reads).
     */
    public Builder clientCertificate(byte[] certificateChainPem, byte[] privateKeyPem) {
      tls = true;
      certChainPem = certificateChainPem.clone();
      keyPem = PrivateKeys.toPkcs8(privateKeyPem);
      return this;
    }

    /** {@code authorization: Bearer <token>} on every call. */
    public Builder bearerToken(String token) {
      callCredentials = BearerToken.of(token);
      refreshingToken = false;
      return this;
    }

    /**
     * A token asked of {@code tokens} before each call; the watches then also reconnect once on
     * UNAUTHENTICATED, with a fresh token.
     */
    public Builder tokenSupplier(Supplier<String> tokens) {
      callCredentials = BearerToken.from(tokens);
      refreshingToken = true;
      return this;
    }

    /** Other call credentials (e.g. from google-auth-library); no reconnect on UNAUTHENTICATED. */
    public Builder callCredentials(CallCredentials credentials) {
      callCredentials = credentials;
      refreshingToken = false;
      return this;
    }

    /** The reconnect policy of the helpers (default {@link ReconnectPolicy#DEFAULT}). */
    public Builder policy(ReconnectPolicy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * A deadline for every unary call (the stubs' and the helpers') that has none of its own, e.g.
     * {@code Duration.ofSeconds(30)}; streams get none (a watch's timeout is its own). Default: none.
     */
    public Builder defaultDeadline(Duration deadline) {
      this.defaultDeadline = Objects.requireNonNull(deadline, "deadline");
      return this;
    }

    /** See {@link PlatformClient#withIdleTimeout}. */
    public Builder idleTimeout(Duration idleTimeout) {
      this.idleTimeout = idleTimeout;
      return this;
    }

    /** The authority (TLS server name) to use instead of the target's host, e.g. for tests. */
    public Builder overrideAuthority(String authority) {
      this.authority = authority;
      return this;
    }

    public PlatformClient build() {
      ChannelCredentials credentials = InsecureChannelCredentials.create();
      if (tls) {
        TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
        try {
          if (trustPem != null) {
            builder.trustManager(new ByteArrayInputStream(trustPem));
          }
          if (certChainPem != null) {
            builder.keyManager(new ByteArrayInputStream(certChainPem), new ByteArrayInputStream(keyPem));
          }
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read the TLS certificates", e);
        }
        credentials = builder.build();
      }
      if (callCredentials != null) {
        credentials = CompositeChannelCredentials.create(credentials, callCredentials);
      }
      ManagedChannelBuilder<?> builder = Grpc.newChannelBuilder(target, credentials);
      if (authority != null) {
        builder.overrideAuthority(authority);
      }
      ManagedChannel channel = builder.build();
      Channel calls = defaultDeadline == null ? channel
          : ClientInterceptors.intercept(channel, new DefaultDeadline(defaultDeadline));
      return new PlatformClient(calls, channel, refreshingToken, policy,
          d -> TimeUnit.NANOSECONDS.sleep(d.toNanos()), () -> ThreadLocalRandom.current().nextDouble(),
          idleTimeout);
    }
  }
}
