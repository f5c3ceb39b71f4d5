package io.polysync.platform.client;

import static io.polysync.platform.client.ScriptedServer.event;
import static io.polysync.platform.client.ScriptedServer.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Timestamp;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.polysync.platform.v1.ExecutePipelineRequest;
import io.polysync.platform.v1.ExecutePipelineResponse;
import io.polysync.platform.v1.ListPipelineRunsRequest;
import io.polysync.platform.v1.ListPipelineRunsResponse;
import io.polysync.platform.v1.ListPipelinesRequest;
import io.polysync.platform.v1.ListPipelinesResponse;
import io.polysync.platform.v1.Pipeline;
import io.polysync.platform.v1.PipelineRun;
import io.polysync.platform.v1.WatchPipelineRunRequest;
import io.polysync.platform.v1.WatchPipelineRunResponse;
import io.polysync.platform.v1.WatchPipelineRunsRequest;
import io.polysync.platform.v1.WatchPipelineRunsResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The helpers against a scripted in-process server: every rule of the reconnect policy. */
class HelpersTest {
  private static final ScriptedServer.Fail UNAVAILABLE =
      new ScriptedServer.Fail(Status.Code.UNAVAILABLE, Reasons.SERVER_SHUTTING_DOWN);

  private ScriptedServer server;
  private final List<Duration> delays = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    server = new ScriptedServer();
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
  }

  private PlatformClient client(boolean retryUnauthenticated) {
    return PlatformClient.wrap(server.channel, retryUnauthenticated).withSleeper(delays::add);
  }

  private List<RunEvent> watchAll(RunWatch watch) {
    List<RunEvent> events = new ArrayList<>();
    try (watch) {
      watch.forEachRemaining(events::add);
    }
    return events;
  }

  private static List<String> states(List<RunEvent> events) {
    return events.stream().map(e -> e.run().getNativeStatus()).collect(Collectors.toList());
  }

  /** Each delay is min(15, 0.5 * 2^(n-1)) s times a factor in [0.8, 1.2]. */
  private void assertBackoff(int... attempts) {
    assertEquals(attempts.length, delays.size(), "delays " + delays);
    for (int i = 0; i < attempts.length; i++) {
      double base = Math.min(15.0, 0.5 * Math.pow(2, attempts[i] - 1));
      double seconds = delays.get(i).toNanos() / 1e9;
      assertTrue(seconds >= 0.8 * base - 1e-9 && seconds <= 1.2 * base + 1e-9,
          "attempt " + attempts[i] + ": " + seconds);
    }
  }

  @Test
  void resumesAfterUnavailableWithoutRepeatingTheCurrentState() {
    server.script("WatchPipelineRun", event(run("r1", "SUBMITTED", false)),
        event(run("r1", "RUNNABLE", false)), UNAVAILABLE);
    server.script("WatchPipelineRun", event(run("r1", "RUNNABLE", false)),
        event(run("r1", "SUCCEEDED", true)));
    List<RunEvent> events = watchAll(client(false).watchRun("r1", Duration.ofSeconds(30)));
    assertEquals(List.of("SUBMITTED", "RUNNABLE", "SUCCEEDED"), states(events));
    assertBackoff(1);
    assertEquals(2, server.requests(WatchPipelineRunRequest.class).size());
  }

  @Test
  void aCleanEarlyEndReconnectsWithBackoff() {
    server.script("WatchPipelineRun", event(run("r1", "RUNNING", false)));
    server.script("WatchPipelineRun");
    server.script("WatchPipelineRun", event(run("r1", "SUCCEEDED", true)));
    assertEquals(List.of("RUNNING", "SUCCEEDED"), states(watchAll(client(false).watchRun("r1", null))));
    assertBackoff(1, 2);
  }

  @Test
  void tenReconnectsWithoutAMessageThenTheLastErrorIsThrown() {
    for (int i = 0; i < 11; i++) {
      server.script("WatchPipelineRun", UNAVAILABLE);
    }
    RunWatch watch = client(false).watchRun("r1", null);
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, watch::hasNext);
    assertEquals(Status.Code.UNAVAILABLE, error.getStatus().getCode());
    assertEquals(Reasons.SERVER_SHUTTING_DOWN, Errors.reason(error));
    assertBackoff(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    assertEquals(11, server.requests(WatchPipelineRunRequest.class).size());
    assertFalse(watch.hasNext());
  }

  @Test
  void cleanEndsSpendTheBudgetToo() {
    for (int i = 0; i < 11; i++) {
      server.script("WatchPipelineRun");
    }
    RunWatch watch = client(false).watchRun("r1", null);
    assertThrows(StreamEndedEarlyException.class, watch::hasNext);
    assertEquals(10, delays.size());
  }

  @Test
  void anyMessageResetsTheBackoff() {
    server.script("WatchPipelineRun", UNAVAILABLE);
    server.script("WatchPipelineRun", UNAVAILABLE);
    server.script("WatchPipelineRun", event(run("r1", "RUNNING", false)), UNAVAILABLE);
    server.script("WatchPipelineRun", WatchPipelineRunResponse.newBuilder()
        .setRun(run("r1", "RUNNING", false)).setHeartbeat(true).build(), UNAVAILABLE);
    server.script("WatchPipelineRun", event(run("r1", "SUCCEEDED", true)));
    watchAll(client(false).watchRun("r1", null));
    assertBackoff(1, 2, 1, 1);
  }

  @Test
  void awsThrottledIsRetriedButTooManyStreamsIsNot() {
    server.script("WatchPipelineRun",
        new ScriptedServer.Fail(Status.Code.RESOURCE_EXHAUSTED, Reasons.AWS_THROTTLED));
    server.script("WatchPipelineRun",
        new ScriptedServer.Fail(Status.Code.RESOURCE_EXHAUSTED, Reasons.TOO_MANY_STREAMS));
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> watchAll(client(false).watchRun("r1", null)));
    assertEquals(Reasons.TOO_MANY_STREAMS, Errors.reason(error));
    assertBackoff(1);
  }

  @Test
  void otherErrorsAreThrownAtOnce() {
    for (Status.Code code : List.of(Status.Code.NOT_FOUND, Status.Code.INVALID_ARGUMENT,
        Status.Code.PERMISSION_DENIED, Status.Code.INTERNAL, Status.Code.DEADLINE_EXCEEDED)) {
      server.script("WatchPipelineRun", new ScriptedServer.Fail(code, "X"));
      StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
          () -> watchAll(client(false).watchRun("r1", null)));
      assertEquals(code, error.getStatus().getCode());
    }
    assertTrue(delays.isEmpty());
  }

  @Test
  void heartbeatsAndStaleSinceReachTheCaller() {
    Timestamp stale = Timestamp.newBuilder().setSeconds(1_800_000_000L).build();
    server.script("WatchPipelineRun", event(run("r1", "RUNNING", false)),
        WatchPipelineRunResponse.newBuilder().setRun(run("r1", "RUNNING", false)).setHeartbeat(true)
            .setStaleSince(stale).build(),
        WatchPipelineRunResponse.newBuilder().setRun(run("r1", "RUNNING", false)).setStaleSince(stale).build(),
        event(run("r1", "SUCCEEDED", true)));
    List<RunEvent> events = watchAll(client(false).watchRun("r1", null));
    assertEquals(3, events.size(), "the repeated state is suppressed: " + events);
    assertFalse(events.get(0).heartbeat());
    assertNull(events.get(0).staleSince());
    assertTrue(events.get(1).heartbeat());
    assertEquals(Instant.ofEpochSecond(1_800_000_000L), events.get(1).staleSince());
    assertTrue(events.get(2).run().getTerminal());
  }

  @Test
  void unauthenticatedIsRetriedOnceOnlyWithATokenSupplier() {
    ScriptedServer.Fail unauthenticated =
        new ScriptedServer.Fail(Status.Code.UNAUTHENTICATED, Reasons.CALLER_UNAUTHENTICATED);
    server.script("WatchPipelineRun", unauthenticated);
    server.script("WatchPipelineRun", event(run("r1", "SUCCEEDED", true)));
    assertEquals(List.of("SUCCEEDED"), states(watchAll(client(true).watchRun("r1", null))));

    server.script("WatchPipelineRun", unauthenticated);
    server.script("WatchPipelineRun", unauthenticated);
    assertThrows(StatusRuntimeException.class, () -> watchAll(client(true).watchRun("r1", null)));
    assertEquals(2, delays.size());

    server.script("WatchPipelineRun", unauthenticated);
    assertThrows(StatusRuntimeException.class, () -> watchAll(client(false).watchRun("r1", null)));
    assertEquals(2, delays.size());
  }

  @Test
  void watchRunsReconnectsForTheRunsNotYetTerminal() {
    server.script("WatchPipelineRuns",
        WatchPipelineRunsResponse.newBuilder().setRun(run("a", "SUCCEEDED", true)).build(),
        WatchPipelineRunsResponse.newBuilder().setRun(run("b", "RUNNING", false)).build());
    server.script("WatchPipelineRuns",
        WatchPipelineRunsResponse.newBuilder().setRun(run("b", "RUNNING", false)).build(),
        WatchPipelineRunsResponse.newBuilder().setRun(run("b", "FAILED", true)).build());
    List<RunEvent> events = watchAll(client(false).watchRuns(List.of("a", "b"), null));
    assertEquals(List.of("a SUCCEEDED", "b RUNNING", "b FAILED"), events.stream()
        .map(e -> e.run().getRunId() + " " + e.run().getNativeStatus()).collect(Collectors.toList()));
    assertEquals(List.of(List.of("a", "b"), List.of("b")), server.requests(WatchPipelineRunsRequest.class)
        .stream().map(WatchPipelineRunsRequest::getRunIdsList).collect(Collectors.toList()));
  }

  @Test
  void closingAWatchEarlyCancelsTheCall() throws Exception {
    server.script("WatchPipelineRun", event(run("r1", "RUNNING", false)), ScriptedServer.HANG);
    try (RunWatch watch = client(false).watchRun("r1", null)) {
      assertEquals("RUNNING", watch.next().run().getNativeStatus());
    }
    assertTrue(server.cancelled.await(5, TimeUnit.SECONDS), "the server's stream is still open");
  }

  @Test
  void headersAndTheDeadlineReachTheServer() {
    server.script("WatchPipelineRun", event(run("r1", "SUCCEEDED", true)));
    Metadata extra = new Metadata();
    extra.put(ScriptedServer.TEAM, "ingest");
    watchAll(client(false).withHeaders(extra).watchRun("r1", Duration.ofSeconds(30)));
    assertEquals("ingest", server.headers.get(0).get(ScriptedServer.TEAM));
    String timeout = server.headers.get(0).get(Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER));
    assertTrue(timeout != null && !timeout.isEmpty(), "no grpc-timeout header");
  }

  @Test
  void executeRetriesWithOneGeneratedRequestIdThenWaitsForTheEnd() {
    server.script("ExecutePipeline", UNAVAILABLE);
    server.script("ExecutePipeline", new ScriptedServer.Fail(Status.Code.DEADLINE_EXCEEDED, ""));
    server.script("ExecutePipeline",
        ExecutePipelineResponse.newBuilder().setRun(run("r1", "SUBMITTED", false)).build());
    server.script("WatchPipelineRun", event(run("r1", "SUBMITTED", false)), event(run("r1", "SUCCEEDED", true)));
    List<RunEvent> seen = new ArrayList<>();
    PipelineRun done = client(false).execute(
        ExecutePipelineRequest.newBuilder().setPipeline("greet").build(), Duration.ofSeconds(60), seen::add);
    assertTrue(done.getTerminal());
    assertEquals("SUCCEEDED", done.getNativeStatus());
    assertEquals(2, seen.size());
    List<String> ids = server.requests(ExecutePipelineRequest.class).stream()
        .map(ExecutePipelineRequest::getRequestId).distinct().collect(Collectors.toList());
    assertEquals(1, ids.size());
    assertEquals(36, ids.get(0).length());
    assertBackoff(1, 2);
  }

  @Test
  void executeKeepsAGivenRequestIdAndDoesNotRetryARefusal() {
    server.script("ExecutePipeline", new ScriptedServer.Fail(Status.Code.INVALID_ARGUMENT,
        Reasons.MISSING_PARAMETERS, List.of("parameters[name]")));
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () -> client(false).execute(
        ExecutePipelineRequest.newBuilder().setPipeline("greet").setRequestId("mine").build(), null));
    assertEquals(List.of("name"), Errors.missingParameters(error));
    assertEquals("mine", server.requests(ExecutePipelineRequest.class).get(0).getRequestId());
    assertTrue(delays.isEmpty());
  }

  @Test
  void pagingFollowsNextPageToken() {
    server.script("ListPipelines", ListPipelinesResponse.newBuilder()
        .addPipelines(Pipeline.newBuilder().setName("a")).addPipelines(Pipeline.newBuilder().setName("b"))
        .setNextPageToken("p2").build());
    server.script("ListPipelines", ListPipelinesResponse.newBuilder()
        .addPipelines(Pipeline.newBuilder().setName("c")).build());
    server.script("ListPipelineRuns", ListPipelineRunsResponse.newBuilder()
        .addRuns(run("x", "RUNNING", false)).setNextPageToken("n").build());
    server.script("ListPipelineRuns", ListPipelineRunsResponse.newBuilder()
        .addRuns(run("y", "RUNNING", false)).build());
    List<String> names = new ArrayList<>();
    client(false).listPipelines(ListPipelinesRequest.newBuilder().setPageSize(2).build(), Duration.ofSeconds(5))
        .forEach(p -> names.add(p.getName()));
    List<String> ids = new ArrayList<>();
    client(false).listRuns(ListPipelineRunsRequest.newBuilder().setJobQueue("q").build(), null)
        .forEach(r -> ids.add(r.getRunId()));
    assertEquals(List.of("a", "b", "c"), names);
    assertEquals(List.of("x", "y"), ids);
    assertEquals(List.of("", "p2"), server.requests(ListPipelinesRequest.class).stream()
        .map(ListPipelinesRequest::getPageToken).collect(Collectors.toList()));
    assertEquals(List.of("q", "q"), server.requests(ListPipelineRunsRequest.class).stream()
        .map(ListPipelineRunsRequest::getJobQueue).collect(Collectors.toList()));
  }

  @Test
  void bearerTokensAreAskedOfTheSupplierForEachCall() {
    server.script("ListPipelines", ListPipelinesResponse.getDefaultInstance());
    server.script("ListPipelines", ListPipelinesResponse.getDefaultInstance());
    int[] count = {0};
    Supplier<String> tokens = () -> "t" + (++count[0]);
    PlatformClient client = PlatformClient.wrap(io.grpc.ClientInterceptors.intercept(server.channel),
        true);
    var stub = client.blockingStub().withCallCredentials(BearerToken.from(tokens));
    stub.listPipelines(ListPipelinesRequest.getDefaultInstance());
    stub.listPipelines(ListPipelinesRequest.getDefaultInstance());
    assertEquals("Bearer t1", server.headers.get(0).get(ScriptedServer.AUTHORIZATION));
    assertEquals("Bearer t2", server.headers.get(1).get(ScriptedServer.AUTHORIZATION));
  }

  @Test
  void policyDefaultsAreTheDocumentedOnes() {
    ReconnectPolicy policy = ReconnectPolicy.DEFAULT;
    assertEquals(Duration.ofMillis(500), policy.initialBackoff());
    assertEquals(Duration.ofSeconds(15), policy.maxBackoff());
    assertEquals(10, policy.maxReconnects());
    List<Duration> middle = new ArrayList<>();
    for (int n = 1; n <= 7; n++) {
      middle.add(policy.backoff(n, () -> 0.5));
    }
    assertEquals(List.of(Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2),
        Duration.ofSeconds(4), Duration.ofSeconds(8), Duration.ofSeconds(15), Duration.ofSeconds(15)), middle);
    assertEquals(Duration.ofMillis(400), policy.backoff(1, () -> 0.0));
    assertInstanceOf(Duration.class, policy.backoff(1));
  }
}
