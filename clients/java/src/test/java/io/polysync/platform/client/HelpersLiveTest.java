package io.polysync.platform.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.polysync.platform.v1.ExecutePipelineRequest;
import io.polysync.platform.v1.ListPipelineRunsRequest;
import io.polysync.platform.v1.ListPipelinesRequest;
import io.polysync.platform.v1.LogEvent;
import io.polysync.platform.v1.PipelineRun;
import io.polysync.platform.v1.RunStatus;
import io.polysync.platform.v1.StreamPipelineRunLogsRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The helpers against the real server, over TLS with a bearer token: a watch across a server
 * restart (the certificates and tokens survive it), execute, logs, paging.
 */
@Tag("live")
class HelpersLiveTest {
  @RegisterExtension static final LiveStack STACK = LiveStack.secured();

  @Test
  void watchFollowsARunAcrossAServerRestart() throws Exception {
    PlatformClient client = STACK.client();
    PipelineRun run = client.blockingStub().withDeadlineAfter(30, TimeUnit.SECONDS)
        .executePipeline(ExecutePipelineRequest.newBuilder().setPipeline("hello")
            .putParameters("duration_seconds", "3").build())
        .getRun();
    List<Status.Code> reconnects = new ArrayList<>();
    List<PipelineRun> states = new ArrayList<>();
    try (RunWatch watch = client.watchRun("", run.getRunId(), Duration.ofSeconds(60),
        (attempt, delay, cause) -> reconnects.add(Status.fromThrowable(cause).getCode()))) {
      while (watch.hasNext()) {
        RunEvent event = watch.next();
        if (event.heartbeat()) {
          continue;
        }
        states.add(event.run());
        if (states.size() == 1) {
          STACK.restart(); // the server stops under the open stream and serves again
        }
      }
    }
    assertFalse(reconnects.isEmpty(), "the watch never reconnected");
    assertEquals(Status.Code.UNAVAILABLE, reconnects.get(0));
    PipelineRun last = states.get(states.size() - 1);
    assertEquals(RunStatus.RUN_STATUS_SUCCEEDED, last.getStatus());
    for (int i = 1; i < states.size(); i++) {
      assertFalse(WatchState.stateKey(states.get(i)).equals(WatchState.stateKey(states.get(i - 1))),
          "delivered twice: " + states.get(i).getNativeStatus());
    }
  }

  @Test
  void executeLogsAndPaging() {
    PlatformClient client = STACK.client();
    Set<String> pipelines = new HashSet<>();
    client.listPipelines(ListPipelinesRequest.newBuilder().setPageSize(1).build(), Duration.ofSeconds(30))
        .forEach(p -> pipelines.add(p.getName()));
    assertTrue(pipelines.containsAll(List.of("greet", "hello")), pipelines.toString());

    PipelineRun done = client.execute(ExecutePipelineRequest.newBuilder().setPipeline("greet")
        .putParameters("name", "Grace").build(), Duration.ofSeconds(60));
    assertTrue(done.getTerminal());
    assertEquals(RunStatus.RUN_STATUS_SUCCEEDED, done.getStatus());

    List<String> lines = new ArrayList<>();
    try (LogStream logs = client.streamLogs(StreamPipelineRunLogsRequest.newBuilder()
        .setRunId(done.getRunId()).setFollow(true).setStartFromHead(true).build(), Duration.ofSeconds(60))) {
      logs.forEachRemaining((LogEvent e) -> lines.add(e.getMessage()));
    }
    assertTrue(lines.stream().anyMatch(l -> l.contains("Hello Grace")), lines.toString());

    Set<String> runs = new HashSet<>();
    client.listRuns(ListPipelineRunsRequest.newBuilder().setPageSize(1).build(), Duration.ofSeconds(30))
        .forEach(r -> runs.add(r.getRunId()));
    assertTrue(runs.contains(done.getRunId()));

    List<RunEvent> many = new ArrayList<>();
    try (RunWatch watch = client.watchRuns(List.of(done.getRunId()), Duration.ofSeconds(30))) {
      watch.forEachRemaining(many::add);
    }
    assertTrue(many.get(many.size() - 1).run().getTerminal());
  }
}
