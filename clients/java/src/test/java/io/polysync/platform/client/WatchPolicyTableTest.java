package io.polysync.platform.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.polysync.platform.v1.ArrayJobStatus;
import io.polysync.platform.v1.PipelineRun;
import io.polysync.platform.v1.WatchPipelineRunResponse;
import io.polysync.platform.v1.WatchPipelineRunsRequest;
import io.polysync.platform.v1.WatchPipelineRunsResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every scenario of clients/watch-policy.json, the one watch policy of every client
 * (docs/clients.md), replayed against {@link PlatformClient#watchRun} / {@link
 * PlatformClient#watchRuns} over the scripted in-process server. Times are scaled by {@link
 * #SCALE}.
 */
class WatchPolicyTableTest {
  private static final double SCALE = 0.02;
  private static final Map<String, Object> TABLE = load();

  /** The table, or null when this client is built outside the repository (a copy of clients/java). */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> load() {
    Path table = Path.of(System.getProperty("polysync.repo.root", "../..")).resolve("clients/watch-policy.json");
    if (!Files.exists(table)) {
      return null;
    }
    try {
      return (Map<String, Object>) Json.parse(Files.readString(table));
    } catch (Exception e) {
      throw new IllegalStateException("cannot read " + table, e);
    }
  }

  private static void needTable() {
    assumeTrue(TABLE != null, "clients/watch-policy.json is not here: built outside the repository");
  }

  @SuppressWarnings("unchecked")
  private static <T> T get(Object object, String key) {
    return (T) ((Map<String, Object>) object).get(key);
  }

  private static double number(Object object, String key) {
    return ((Number) get(object, key)).doubleValue();
  }

  private static PipelineRun pipelineRun(Map<String, Object> step) {
    PipelineRun.Builder run = PipelineRun.newBuilder()
        .setRunId((String) step.getOrDefault("run", "r1"))
        .setNativeStatus((String) step.getOrDefault("native", ""))
        .setStatusReason((String) step.getOrDefault("reason", ""))
        .setTerminal(Boolean.TRUE.equals(step.get("terminal")))
        .setMessage((String) step.getOrDefault("message", ""));
    if (step.containsKey("exit_code")) {
      run.setExitCode(((Number) step.get("exit_code")).intValue());
    }
    if (step.containsKey("size") || step.containsKey("counts")) {
      ArrayJobStatus.Builder array = ArrayJobStatus.newBuilder();
      if (step.containsKey("size")) {
        array.setSize(((Number) step.get("size")).intValue());
      }
      Map<String, Object> counts = get(step, "counts");
      if (counts != null) {
        counts.forEach((k, v) -> array.putStatusCounts(k, ((Number) v).intValue()));
      }
      run.setArray(array);
    }
    return run.build();
  }

  private static Object step(Map<String, Object> step, boolean many) {
    if (step.containsKey("error")) {
      return new ScriptedServer.Fail(Status.Code.valueOf((String) step.get("error")),
          (String) step.getOrDefault("reason", ""));
    }
    if (Boolean.TRUE.equals(step.get("hang"))) {
      return ScriptedServer.HANG;
    }
    PipelineRun run = pipelineRun(step);
    boolean heartbeat = Boolean.TRUE.equals(step.get("heartbeat"));
    Timestamp stale = step.containsKey("stale_since")
        ? Timestamp.newBuilder().setSeconds(((Number) step.get("stale_since")).longValue()).build() : null;
    if (many) {
      WatchPipelineRunsResponse.Builder message = WatchPipelineRunsResponse.newBuilder().setRun(run).setHeartbeat(heartbeat);
      return stale == null ? message.build() : message.setStaleSince(stale).build();
    }
    WatchPipelineRunResponse.Builder message = WatchPipelineRunResponse.newBuilder().setRun(run).setHeartbeat(heartbeat);
    return stale == null ? message.build() : message.setStaleSince(stale).build();
  }

  private static ReconnectPolicy scaled() {
    Map<String, Object> policy = get(TABLE, "policy");
    return new ReconnectPolicy(Duration.ofNanos(Math.round(number(policy, "initial_backoff_seconds") * 1e9 * SCALE)),
        Duration.ofNanos(Math.round(number(policy, "max_backoff_seconds") * 1e9 * SCALE)),
        number(policy, "jitter"), (int) number(policy, "max_reconnects"));
  }

  private static String describe(RunEvent event) {
    List<String> words = new ArrayList<>(List.of(event.run().getRunId(), event.run().getNativeStatus()));
    if (event.staleSince() != null) {
      words.add("stale");
    }
    if (event.heartbeat()) {
      words.add("heartbeat");
    }
    return String.join(" ", words);
  }

  @TestFactory
  Stream<DynamicTest> scenarios() {
    needTable();
    List<Map<String, Object>> scenarios = get(TABLE, "scenarios");
    return scenarios.stream().map(s -> DynamicTest.dynamicTest((String) s.get("name"), () -> replay(s)));
  }

  private void replay(Map<String, Object> scenario) throws Exception {
    List<String> watch = get(scenario, "watch");
    boolean many = watch.size() > 1;
    Map<String, Object> expect = get(scenario, "expect");
    try (ScriptedServer server = new ScriptedServer()) {
      String method = many ? "WatchPipelineRuns" : "WatchPipelineRun";
      List<List<Map<String, Object>>> streams = get(scenario, "streams");
      for (List<Map<String, Object>> stream : streams) {
        server.script(method, stream.stream().map(st -> step(st, many)).toArray());
      }
      PlatformClient client = PlatformClient.wrap(server.channel, Boolean.TRUE.equals(scenario.get("token_source")))
          .withPolicy(scaled());
      if (scenario.containsKey("idle_timeout")) {
        client = client.withIdleTimeout(Duration.ofNanos(Math.round(number(scenario, "idle_timeout") * 1e9 * SCALE)));
      }
      Duration timeout = scenario.containsKey("timeout")
          ? Duration.ofNanos(Math.round(number(scenario, "timeout") * 1e9 * SCALE)) : null;
      ReconnectPolicy policy = scaled();
      List<Integer> attempts = new ArrayList<>();
      RunWatch.ReconnectListener listener = (attempt, delay, cause) -> {
        double base = Math.min(policy.maxBackoff().toNanos(),
            policy.initialBackoff().toNanos() * Math.pow(2, attempt - 1));
        assertTrue(delay.toNanos() >= base * (1 - policy.jitter()) - 1 && delay.toNanos() <= base * (1 + policy.jitter()) + 1,
            "attempt " + attempt + ": " + delay);
        attempts.add(attempt);
      };
      List<String> events = new ArrayList<>();
      RuntimeException error = null;
      try (RunWatch w = many ? client.watchRuns("", watch, timeout, listener)
          : client.watchRun("", watch.get(0), timeout, listener)) {
        for (RunEvent event : w) {
          events.add(describe(event));
        }
      } catch (RuntimeException e) {
        error = e;
      }
      assertEquals(get(expect, "events"), events);
      if (expect.containsKey("reconnects_between")) {
        List<Number> between = get(expect, "reconnects_between");
        assertTrue(attempts.size() >= between.get(0).intValue() && attempts.size() <= between.get(1).intValue(),
            "reconnects " + attempts);
      } else {
        List<Number> want = get(expect, "reconnects");
        assertEquals(want.stream().map(Number::intValue).collect(Collectors.toList()), attempts);
      }
      if (expect.containsKey("streams_opened")) {
        assertEquals(((Number) expect.get("streams_opened")).intValue(), server.requests.size());
      }
      if (expect.containsKey("requested")) {
        List<List<String>> requested = server.requests(WatchPipelineRunsRequest.class).stream()
            .map(r -> List.copyOf(r.getRunIdsList())).collect(Collectors.toList());
        assertEquals(get(expect, "requested"), requested);
      }
      String end = get(expect, "end");
      if (end.equals("OK")) {
        assertNull(error);
      } else if (end.equals("STREAM_ENDED_EARLY")) {
        assertInstanceOf(StreamEndedEarlyException.class, error);
      } else {
        StatusRuntimeException status = assertInstanceOf(StatusRuntimeException.class, error);
        assertEquals(end, status.getStatus().getCode().name(), String.valueOf(error));
        assertEquals(expect.getOrDefault("end_reason", ""), Errors.reason(status));
      }
    }
  }

  @Test
  void theBackoffTableIsTheDefaultPolicy() {
    needTable();
    Map<String, Object> policy = get(TABLE, "policy");
    ReconnectPolicy d = ReconnectPolicy.DEFAULT;
    assertEquals(Duration.ofMillis(Math.round(number(policy, "initial_backoff_seconds") * 1000)), d.initialBackoff());
    assertEquals(Duration.ofMillis(Math.round(number(policy, "max_backoff_seconds") * 1000)), d.maxBackoff());
    assertEquals(number(policy, "jitter"), d.jitter());
    assertEquals((int) number(policy, "max_reconnects"), d.maxReconnects());
    assertEquals(2.0, number(policy, "multiplier"), "ReconnectPolicy doubles");
    List<Map<String, Object>> rows = get(TABLE, "backoff");
    for (Map<String, Object> row : rows) {
      int attempt = ((Number) row.get("attempt")).intValue();
      assertEquals(number(row, "min"), d.backoff(attempt, () -> 0.0).toNanos() / 1e9, 1e-6);
      assertEquals(number(row, "max"), d.backoff(attempt, () -> 1.0).toNanos() / 1e9, 1e-6);
    }
  }

  @Test
  void sameStatePairs() throws Exception {
    needTable();
    List<Map<String, Object>> pairs = get(TABLE, "same_state");
    for (Map<String, Object> pair : pairs) {
      try (ScriptedServer server = new ScriptedServer()) {
        server.script("WatchPipelineRun", step(get(pair, "a"), false), step(get(pair, "b"), false),
            step(Map.of("native", "SUCCEEDED", "terminal", true), false));
        int n = 0;
        try (RunWatch w = PlatformClient.wrap(server.channel, false).watchRun("r1", null)) {
          for (RunEvent ignored : w) {
            n++;
          }
        }
        assertEquals(pair.get("same"), n == 2, (String) pair.get("name"));
      }
    }
  }

  /** Just enough JSON for the table: objects, arrays, strings, numbers, booleans, null. */
  static final class Json {
    private final String text;
    private int at;

    private Json(String text) {
      this.text = text;
    }

    static Object parse(String text) {
      Json json = new Json(text);
      Object value = json.value();
      json.space();
      if (json.at != text.length()) {
        throw new IllegalArgumentException("trailing text at " + json.at);
      }
      return value;
    }

    private void space() {
      while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
        at++;
      }
    }

    private Object value() {
      space();
      char c = text.charAt(at);
      if (c == '{') {
        Map<String, Object> object = new LinkedHashMap<>();
        at++;
        space();
        if (text.charAt(at) == '}') {
          at++;
          return object;
        }
        while (true) {
          space();
          String key = string();
          space();
          at++; // ':'
          object.put(key, value());
          space();
          if (text.charAt(at++) == '}') {
            return object;
          }
        }
      }
      if (c == '[') {
        List<Object> array = new ArrayList<>();
        at++;
        space();
        if (text.charAt(at) == ']') {
          at++;
          return array;
        }
        while (true) {
          array.add(value());
          space();
          if (text.charAt(at++) == ']') {
            return array;
          }
        }
      }
      if (c == '"') {
        return string();
      }
      for (String word : List.of("true", "false", "null")) {
        if (text.startsWith(word, at)) {
          at += word.length();
          return word.equals("null") ? null : Boolean.valueOf(word);
        }
      }
      int start = at;
      while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) {
        at++;
      }
      String number = text.substring(start, at);
      return number.matches("-?\\d+") ? (Object) Long.valueOf(number) : (Object) Double.valueOf(number);
    }

    private String string() {
      StringBuilder out = new StringBuilder();
      at++; // '"'
      while (text.charAt(at) != '"') {
        char c = text.charAt(at++);
        if (c == '\\') {
          char e = text.charAt(at++);
          switch (e) {
            case 'n' -> out.append('\n');
            case 't' -> out.append('\t');
            case 'u' -> {
              out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
              at += 4;
            }
            default -> out.append(e);
          }
        } else {
          out.append(c);
        }
      }
      at++;
      return out.toString();
    }
  }
}
