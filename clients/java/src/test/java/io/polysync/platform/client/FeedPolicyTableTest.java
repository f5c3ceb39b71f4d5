package io.polysync.platform.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.polysync.platform.v1.BatchGetPipelineRunsRequest;
import io.polysync.platform.v1.BatchGetPipelineRunsResponse;
import io.polysync.platform.v1.PipelineRun;
import io.polysync.platform.v1.RunChange;
import io.polysync.platform.v1.WatchRunChangesRequest;
import io.polysync.platform.v1.WatchRunChangesResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every scenario of clients/feed-policy.json, the one feed-helper policy of every client
 * (docs/clients.md "The feed helper"), replayed against {@link PlatformClient#followChanges} over
 * the scripted in-process server. Backoff times (clients/watch-policy.json's) are scaled by {@link
 * #SCALE}.
 */
class FeedPolicyTableTest {
  private static final double SCALE = 0.02;
  private static final Map<String, Object> FEED = load("clients/feed-policy.json");
  private static final Map<String, Object> WATCH = load("clients/watch-policy.json");

  /** The table, or null when this client is built outside the repository (a copy of clients/java). */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> load(String name) {
    Path table = Path.of(System.getProperty("polysync.repo.root", "../..")).resolve(name);
    if (!Files.exists(table)) {
      return null;
    }
    try {
      return (Map<String, Object>) WatchPolicyTableTest.Json.parse(Files.readString(table));
    } catch (Exception e) {
      throw new IllegalStateException("cannot read " + table, e);
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> T get(Object object, String key) {
    return (T) ((Map<String, Object>) object).get(key);
  }

  private static double number(Object object, String key) {
    return ((Number) get(object, key)).doubleValue();
  }

  /** In the scenarios, a run whose native status is SUCCEEDED or FAILED is terminal (the policy's in_flight). */
  private static PipelineRun run(String runId, String nativeStatus) {
    return PipelineRun.newBuilder().setRunId(runId).setNativeStatus(nativeStatus)
        .setTerminal(nativeStatus.equals("SUCCEEDED") || nativeStatus.equals("FAILED")).build();
  }

  private static Object fail(Map<String, Object> item) {
    return new ScriptedServer.Fail(Status.Code.valueOf((String) item.get("error")),
        (String) item.getOrDefault("reason", ""));
  }

  /** One of the scenario's batch_gets as the scripted BatchGetPipelineRuns answer: the runs and missing ids, or the error. */
  private static Object batchGet(Map<String, Object> call) {
    if (call.containsKey("error")) {
      return fail(call);
    }
    BatchGetPipelineRunsResponse.Builder answer = BatchGetPipelineRunsResponse.newBuilder();
    List<List<String>> runs = get(call, "runs");
    for (List<String> run : runs == null ? List.<List<String>>of() : runs) {
      answer.addRuns(run(run.get(0), run.get(1)));
    }
    List<String> missing = get(call, "missing_run_ids");
    answer.addAllMissingRunIds(missing == null ? List.of() : missing);
    return answer.build();
  }

  private static Object item(Map<String, Object> item) {
    if (item.containsKey("error")) {
      return fail(item);
    }
    WatchRunChangesResponse.Builder message = WatchRunChangesResponse.newBuilder()
        .setCursor((String) item.getOrDefault("cursor", ""))
        .setHeartbeat(Boolean.TRUE.equals(item.get("heartbeat")))
        .setSnapshotComplete(Boolean.TRUE.equals(item.get("snapshot_complete")));
    List<List<Object>> changes = get(item, "changes");
    for (List<Object> change : changes == null ? List.<List<Object>>of() : changes) {
      message.addChanges(RunChange.newBuilder()
          .setRun(run((String) change.get(0), (String) change.get(2)))
          .setVersion(((Number) change.get(1)).longValue()));
    }
    if (item.containsKey("stale_since")) {
      Instant since = Instant.parse((String) item.get("stale_since"));
      message.setStaleSince(Timestamp.newBuilder().setSeconds(since.getEpochSecond()));
    }
    return message.build();
  }

  private static ReconnectPolicy scaled() {
    Map<String, Object> policy = get(WATCH, "policy");
    return new ReconnectPolicy(Duration.ofNanos(Math.round(number(policy, "initial_backoff_seconds") * 1e9 * SCALE)),
        Duration.ofNanos(Math.round(number(policy, "max_backoff_seconds") * 1e9 * SCALE)),
        number(policy, "jitter"), (int) number(policy, "max_reconnects"));
  }

  private static String describe(FeedEvent event) {
    List<String> words = new ArrayList<>(List.of(event.kind().name().toLowerCase()));
    if (event.kind() == FeedEvent.Kind.CHANGE) {
      words.addAll(List.of(event.run().getRunId(), Long.toString(event.version()), event.run().getNativeStatus()));
    }
    if (event.kind() == FeedEvent.Kind.GONE) {
      words.add(event.run().getRunId());
    }
    if (event.stale()) {
      words.add("stale");
    }
    words.add("@" + event.cursor());
    return String.join(" ", words);
  }

  @TestFactory
  Stream<DynamicTest> scenarios() {
    assumeTrue(FEED != null && WATCH != null, "clients/feed-policy.json is not here: built outside the repository");
    List<Map<String, Object>> scenarios = get(FEED, "scenarios");
    return scenarios.stream().map(s -> DynamicTest.dynamicTest((String) s.get("name"), () -> replay(s)));
  }

  private void replay(Map<String, Object> scenario) throws Exception {
    Map<String, Object> start = get(scenario, "start");
    Map<String, Object> expect = get(scenario, "expect");
    try (ScriptedServer server = new ScriptedServer()) {
      List<List<Map<String, Object>>> streams = get(scenario, "streams");
      for (List<Map<String, Object>> stream : streams) {
        server.script("WatchRunChanges", stream.stream().map(FeedPolicyTableTest::item).toArray());
      }
      List<Map<String, Object>> batchGets = get(scenario, "batch_gets");
      batchGets = batchGets == null ? List.of() : batchGets;
      for (Map<String, Object> call : batchGets) {
        server.script("BatchGetPipelineRuns", batchGet(call));
      }
      ReconnectPolicy policy = scaled();
      PlatformClient client = PlatformClient.wrap(server.channel, false).withPolicy(policy);
      List<Integer> attempts = new ArrayList<>();
      RunWatch.ReconnectListener listener = (attempt, delay, cause) -> {
        double base = Math.min(policy.maxBackoff().toNanos(),
            policy.initialBackoff().toNanos() * Math.pow(2, attempt - 1));
        assertTrue(delay.toNanos() >= base * (1 - policy.jitter()) - 1 && delay.toNanos() <= base * (1 + policy.jitter()) + 1,
            "attempt " + attempt + ": " + delay);
        attempts.add(attempt);
      };
      Map<String, String> tags = new LinkedHashMap<>();
      Map<String, Object> startTags = get(start, "tags");
      if (startTags != null) {
        startTags.forEach((k, v) -> tags.put(k, (String) v));
      }
      // The runs the caller starts the helper with as in flight (the policy's in_flight), if any.
      List<String> inFlight = get(start, "in_flight");
      List<String> events = new ArrayList<>();
      String cursor = (String) start.get("cursor");
      RuntimeException error = null;
      try (ChangeFeed feed = client.followChanges("", tags, cursor, inFlight == null ? List.of() : inFlight, null,
          listener)) {
        for (FeedEvent event : feed) {
          events.add(describe(event));
          cursor = event.cursor();
        }
      } catch (RuntimeException e) {
        error = e;
      }
      List<Map<String, Object>> wanted = get(expect, "requests");
      List<Map<String, Object>> requests = server.requests(WatchRunChangesRequest.class).stream()
          .map(r -> Map.<String, Object>of("cursor", r.getCursor(), "snapshot", r.getSnapshot(), "tags", r.getTagsMap()))
          .collect(Collectors.toList());
      assertEquals(wanted.stream().map(r -> Map.<String, Object>of("cursor", r.get("cursor"), "snapshot", r.get("snapshot"),
          "tags", r.getOrDefault("tags", Map.of()))).collect(Collectors.toList()), requests);
      assertEquals(get(expect, "events"), events);
      // The runs read, call by call, on the feed's platform; no call more than the scenario lists.
      assertEquals(batchGets.stream().map(c -> get(c, "run_ids")).collect(Collectors.toList()),
          server.requests(BatchGetPipelineRunsRequest.class).stream().map(r -> List.copyOf(r.getRunIdsList()))
              .collect(Collectors.toList()), "the run_ids of each BatchGetPipelineRuns call");
      assertTrue(server.requests(BatchGetPipelineRunsRequest.class).stream().allMatch(r -> r.getPlatform().isEmpty()),
          "BatchGetPipelineRuns asked another platform than the feed's");
      List<Number> reconnects = get(expect, "reconnects");
      assertEquals(reconnects.stream().map(Number::intValue).collect(Collectors.toList()), attempts);
      assertEquals(expect.get("cursor"), cursor);
      StatusRuntimeException status = assertInstanceOf(StatusRuntimeException.class, error);
      assertEquals(expect.get("end"), status.getStatus().getCode().name(), String.valueOf(error));
      assertEquals(expect.get("end_reason"), Errors.reason(status));
    }
  }
}
