package io.polysync.platform.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.polysync.platform.v1.CancelPipelineRunRequest;
import io.polysync.platform.v1.ExecutePipelineRequest;
import io.polysync.platform.v1.GetPipelineRunRequest;
import io.polysync.platform.v1.PipelineRun;
import io.polysync.platform.v1.PlatformServiceGrpc.PlatformServiceBlockingStub;
import io.polysync.platform.v1.RunStatus;
import io.polysync.platform.v1.WatchPipelineRunRequest;
import io.polysync.platform.v1.WatchPipelineRunResponse;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The generated Java client against the real server and its embedded AWS Batch emulator, over
 * TLS (the stack's own CA) with caller "client"'s bearer token, connected by {@link
 * PlatformClient.Builder}.
 */
@Tag("live")
class PlatformServiceLiveTest {
  @RegisterExtension static final LiveStack STACK = LiveStack.secured();

  private PlatformServiceBlockingStub platform;

  @BeforeEach
  void stub() {
    platform = STACK.client().blockingStub();
  }

  /** Every event of the watch of {@code runId}, to the end of the stream. */
  private List<WatchPipelineRunResponse> watchToEnd(String runId) {
    List<WatchPipelineRunResponse> events = new ArrayList<>();
    platform.withDeadlineAfter(60, TimeUnit.SECONDS)
        .watchPipelineRun(WatchPipelineRunRequest.newBuilder().setRunId(runId).build())
        .forEachRemaining(events::add);
    return events;
  }

  private static List<Long> sequences(List<WatchPipelineRunResponse> events) {
    return events.stream().map(WatchPipelineRunResponse::getSequence).collect(Collectors.toList());
  }

  @Test
  void executeThenWatchToSucceededOverTlsWithAToken() {
    PipelineRun started = platform.withDeadlineAfter(30, TimeUnit.SECONDS)
        .executePipeline(ExecutePipelineRequest.newBuilder()
            .setPipeline("greet")
            .putParameters("name", "Ada")
            .build())
        .getRun();
    assertFalse(started.getRunId().isEmpty());
    assertEquals("greet", started.getPipeline());
    assertEquals("Ada", started.getParametersMap().get("name"));
    assertEquals(RunStatus.RUN_STATUS_RUNNING, started.getStatus());

    List<WatchPipelineRunResponse> events = watchToEnd(started.getRunId());

    assertTrue(events.size() >= 2, "expected the first state and the terminal one: " + events);
    List<Long> expected = new ArrayList<>();
    for (long i = 1; i <= events.size(); i++) {
      expected.add(i);
    }
    assertEquals(expected, sequences(events));
    assertEquals(RunStatus.RUN_STATUS_RUNNING, events.get(0).getRun().getStatus());
    PipelineRun last = events.get(events.size() - 1).getRun();
    assertEquals(started.getRunId(), last.getRunId());
    assertEquals(RunStatus.RUN_STATUS_SUCCEEDED, last.getStatus());
    assertEquals("SUCCEEDED", last.getNativeStatus());
    assertTrue(last.getTerminal());
    assertTrue(last.hasExitCode(), "exit code should be known after SUCCEEDED");
    assertEquals(0, last.getExitCode());
    for (WatchPipelineRunResponse event : events.subList(0, events.size() - 1)) {
      assertFalse(event.getRun().getTerminal(), "only the last event may be terminal: " + event);
    }
  }

  @Test
  void cancelEndsTheWatchCancelled() {
    PipelineRun started = platform.withDeadlineAfter(30, TimeUnit.SECONDS)
        .executePipeline(ExecutePipelineRequest.newBuilder()
            .setPipeline("hello")
            .putParameters("duration_seconds", "60")
            .build())
        .getRun();

    long begin = System.nanoTime();
    Iterator<WatchPipelineRunResponse> events = platform.withDeadlineAfter(45, TimeUnit.SECONDS)
        .watchPipelineRun(WatchPipelineRunRequest.newBuilder()
            .setRunId(started.getRunId()).build());
    PipelineRun run = events.next().getRun();
    while (!run.getNativeStatus().equals("RUNNING")) { // cancel it while it is really running
      assertTrue(events.hasNext(), "the watch ended before the run was RUNNING: " + run);
      run = events.next().getRun();
    }

    PipelineRun cancelled = platform.withDeadlineAfter(30, TimeUnit.SECONDS)
        .cancelPipelineRun(CancelPipelineRunRequest.newBuilder()
            .setRunId(started.getRunId()).build())
        .getRun();
    assertEquals(started.getRunId(), cancelled.getRunId());

    while (events.hasNext()) {
      run = events.next().getRun();
    }
    assertEquals(RunStatus.RUN_STATUS_CANCELLED, run.getStatus());
    assertEquals("Cancelled by Polysync", run.getStatusReason());
    assertTrue(run.getTerminal());
    assertTrue(System.nanoTime() - begin < TimeUnit.SECONDS.toNanos(30),
        "the watch should end soon after the cancel, not when the 60 s job would have");
  }

  @Test
  void unknownRunIsNotFoundWithErrorInfo() {
    String runId = UUID.randomUUID().toString();
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> platform.withDeadlineAfter(30, TimeUnit.SECONDS)
            .getPipelineRun(GetPipelineRunRequest.newBuilder().setRunId(runId).build()));

    assertEquals(Status.Code.NOT_FOUND, error.getStatus().getCode());
    assertEquals("RUN_NOT_FOUND", Errors.reason(error));
    ErrorInfo info = Errors.errorInfo(error).orElseThrow();
    assertEquals("polysync.platform", info.getDomain());
    assertEquals(Errors.DOMAIN, info.getDomain());
  }

  @Test
  void missingParameterIsInvalidArgumentWithBadRequest() {
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> platform.withDeadlineAfter(30, TimeUnit.SECONDS)
            .executePipeline(ExecutePipelineRequest.newBuilder().setPipeline("greet").build()));

    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
    assertEquals("MISSING_PARAMETERS", Errors.reason(error));
    BadRequest badRequest = Errors.badRequest(error).orElseThrow();
    List<String> fields = badRequest.getFieldViolationsList().stream()
        .map(BadRequest.FieldViolation::getField)
        .collect(Collectors.toList());
    assertEquals(List.of("parameters[name]"), fields);
  }
}
