package com.example;

import io.grpc.StatusRuntimeException;
import io.polysync.platform.client.Errors;
import io.polysync.platform.client.PlatformClient;
import io.polysync.platform.client.Reasons;
import io.polysync.platform.client.RunEvent;
import io.polysync.platform.client.RunWatch;
import io.polysync.platform.v1.CancelPipelineRunRequest;
import io.polysync.platform.v1.ExecutePipelineRequest;
import io.polysync.platform.v1.ExecutePipelineResponse;
import io.polysync.platform.v1.ListPipelineRunsRequest;
import io.polysync.platform.v1.ListPipelinesRequest;
import io.polysync.platform.v1.PipelineRun;
import io.polysync.platform.v1.RunStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/** A service team's first program against polysync-batch: java App ADDRESS. */
public final class App {
  private static void check(String step, boolean ok, Object detail) {
    if (!ok) {
      System.out.println("FAIL " + step + ": " + detail);
      System.exit(1);
    }
    System.out.println("ok   " + step);
  }

  private static List<RunEvent> watch(PlatformClient client, String runId) {
    List<RunEvent> events = new ArrayList<>();
    try (RunWatch watch = client.watchRun(runId, Duration.ofMinutes(2))) {
      watch.forEachRemaining(events::add);
    }
    return events;
  }

  public static void main(String[] args) throws Exception {
    try (PlatformClient client = PlatformClient.connect(args[0]).build()) {
      Set<String> names = new HashSet<>();
      client.listPipelines(ListPipelinesRequest.newBuilder().setPageSize(1).build(), Duration.ofSeconds(30))
          .forEach(p -> names.add(p.getName()));
      check("list pipelines (paged one at a time)", names.containsAll(List.of("greet", "hello")), names);

      try {
        client.blockingStub().withDeadlineAfter(30, TimeUnit.SECONDS)
            .executePipeline(ExecutePipelineRequest.newBuilder().setPipeline("greet").build());
        check("refused submit", false, "greet without name was accepted");
      } catch (StatusRuntimeException e) {
        check("refused submit names the missing field",
            Reasons.MISSING_PARAMETERS.equals(Errors.reason(e))
                && Errors.missingParameters(e).equals(List.of("name")), Errors.missingParameters(e));
      }

      ExecutePipelineRequest request = ExecutePipelineRequest.newBuilder().setPipeline("greet")
          .putParameters("name", "Ada").setRequestId(UUID.randomUUID().toString()).build();
      ExecutePipelineResponse first = client.blockingStub().withDeadlineAfter(30, TimeUnit.SECONDS).executePipeline(request);
      ExecutePipelineResponse again = client.blockingStub().withDeadlineAfter(30, TimeUnit.SECONDS).executePipeline(request);
      check("resubmit with one request_id is deduplicated",
          again.getDeduplicated() && again.getRun().getRunId().equals(first.getRun().getRunId()), again);

      List<RunEvent> events = watch(client, first.getRun().getRunId());
      for (RunEvent e : events) {
        System.out.printf("     %-10s heartbeat=%s staleSince=%s%n", e.run().getNativeStatus(), e.heartbeat(), e.staleSince());
      }
      PipelineRun last = events.get(events.size() - 1).run();
      check("watch to the end, staleSince on every event",
          last.getTerminal() && last.getStatus() == RunStatus.RUN_STATUS_SUCCEEDED, last.getNativeStatus());

      PipelineRun slow = client.blockingStub().withDeadlineAfter(30, TimeUnit.SECONDS)
          .executePipeline(ExecutePipelineRequest.newBuilder().setPipeline("hello")
              .putParameters("duration_seconds", "60").build()).getRun();
      client.blockingStub().withDeadlineAfter(30, TimeUnit.SECONDS)
          .cancelPipelineRun(CancelPipelineRunRequest.newBuilder().setRunId(slow.getRunId()).build());
      List<RunEvent> cancelled = watch(client, slow.getRunId());
      PipelineRun end = cancelled.get(cancelled.size() - 1).run();
      check("cancel", end.getStatus() == RunStatus.RUN_STATUS_CANCELLED, end.getStatusReason());

      PipelineRun done = client.execute(ExecutePipelineRequest.newBuilder().setPipeline("greet")
          .putParameters("name", "Grace").build(), Duration.ofMinutes(2));
      check("submit and wait", done.getTerminal() && done.getStatus() == RunStatus.RUN_STATUS_SUCCEEDED, done.getMessage());

      Set<String> runs = new HashSet<>();
      client.listRuns(ListPipelineRunsRequest.newBuilder().setPageSize(1).build(), Duration.ofSeconds(30))
          .forEach(r -> runs.add(r.getRunId()));
      check("page through runs",
          runs.containsAll(List.of(first.getRun().getRunId(), slow.getRunId(), done.getRunId())), runs.size());
    }
  }
}
