package io.polysync.platform.client;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.polysync.platform.v1.BatchGetPipelineRunsRequest;
import io.polysync.platform.v1.BatchGetPipelineRunsResponse;
import io.polysync.platform.v1.ExecutePipelineRequest;
import io.polysync.platform.v1.ExecutePipelineResponse;
import io.polysync.platform.v1.ListPipelineRunsRequest;
import io.polysync.platform.v1.ListPipelineRunsResponse;
import io.polysync.platform.v1.ListPipelinesRequest;
import io.polysync.platform.v1.ListPipelinesResponse;
import io.polysync.platform.v1.PipelineRun;
import io.polysync.platform.v1.PlatformServiceGrpc;
import io.polysync.platform.v1.WatchPipelineRunRequest;
import io.polysync.platform.v1.WatchPipelineRunResponse;
import io.polysync.platform.v1.WatchPipelineRunsRequest;
import io.polysync.platform.v1.WatchPipelineRunsResponse;
import io.polysync.platform.v1.WatchRunChangesRequest;
import io.polysync.platform.v1.WatchRunChangesResponse;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A scripted PlatformService on the in-process transport: each call of a method plays the next
 * script given for it (messages, then optionally an error with an ErrorInfo reason); requests,
 * headers and cancellations are recorded.
 */
final class ScriptedServer implements AutoCloseable {
  /** End the call with {@code status}, ErrorInfo {@code reason} and optional BadRequest fields. */
  record Fail(Status.Code code, String reason, List<String> badFields) {
    Fail(Status.Code code, String reason) {
      this(code, reason, List.of());
    }
  }

  /** Keep the stream open until the client cancels. */
  static final Object HANG = new Object();

  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> TEAM = Metadata.Key.of("x-team", Metadata.ASCII_STRING_MARSHALLER);
  private static final io.grpc.Context.Key<Metadata> HEADERS = io.grpc.Context.key("headers");

  final Map<String, Deque<List<Object>>> scripts = new HashMap<>();
  final List<Object> requests = Collections.synchronizedList(new ArrayList<>());
  final List<Metadata> headers = Collections.synchronizedList(new ArrayList<>());
  final CountDownLatch cancelled = new CountDownLatch(1);
  private final Server server;
  final ManagedChannel channel;

  ScriptedServer() throws Exception {
    String name = InProcessServerBuilder.generateName();
    ServerInterceptor recordHeaders = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata metadata,
          ServerCallHandler<Q, R> next) {
        headers.add(metadata);
        return Contexts.interceptCall(io.grpc.Context.current().withValue(HEADERS, metadata), call,
            metadata, next);
      }
    };
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(new Service(), recordHeaders)).build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  ScriptedServer script(String method, Object... steps) {
    scripts.computeIfAbsent(method, m -> new ArrayDeque<>()).add(List.of(steps));
    return this;
  }

  <T> List<T> requests(Class<T> type) {
    List<T> found = new ArrayList<>();
    synchronized (requests) {
      for (Object request : requests) {
        if (type.isInstance(request)) {
          found.add(type.cast(request));
        }
      }
    }
    return found;
  }

  static PipelineRun run(String id, String nativeStatus, boolean terminal) {
    return PipelineRun.newBuilder().setRunId(id).setNativeStatus(nativeStatus).setTerminal(terminal).build();
  }

  static WatchPipelineRunResponse event(PipelineRun run) {
    return WatchPipelineRunResponse.newBuilder().setRun(run).build();
  }

  private <R> void play(String method, Object request, StreamObserver<R> out) {
    requests.add(request);
    Deque<List<Object>> queue = scripts.get(method);
    List<Object> steps = queue == null || queue.isEmpty()
        ? List.of(new Fail(Status.Code.UNIMPLEMENTED, "")) : queue.poll();
    for (Object step : steps) {
      if (step instanceof Fail fail) {
        com.google.rpc.Status.Builder status = com.google.rpc.Status.newBuilder()
            .setCode(fail.code().value()).setMessage("scripted " + fail.code());
        if (!fail.badFields().isEmpty()) {
          BadRequest.Builder bad = BadRequest.newBuilder();
          fail.badFields().forEach(f -> bad.addFieldViolations(
              BadRequest.FieldViolation.newBuilder().setField(f).setDescription("required")));
          status.addDetails(Any.pack(bad.build()));
        }
        if (!fail.reason().isEmpty()) {
          status.addDetails(Any.pack(ErrorInfo.newBuilder().setReason(fail.reason())
              .setDomain(Reasons.DOMAIN).build()));
        }
        out.onError(StatusProto.toStatusRuntimeException(status.build()));
        return;
      }
      if (step == HANG) {
        ((ServerCallStreamObserver<R>) out).setOnCancelHandler(cancelled::countDown);
        return;
      }
      @SuppressWarnings("unchecked")
      R message = (R) step;
      out.onNext(message);
    }
    out.onCompleted();
  }

  private final class Service extends PlatformServiceGrpc.PlatformServiceImplBase {
    @Override
    public void watchPipelineRun(WatchPipelineRunRequest request,
        StreamObserver<WatchPipelineRunResponse> out) {
      play("WatchPipelineRun", request, out);
    }

    @Override
    public void watchPipelineRuns(WatchPipelineRunsRequest request,
        StreamObserver<WatchPipelineRunsResponse> out) {
      play("WatchPipelineRuns", request, out);
    }

    @Override
    public void watchRunChanges(WatchRunChangesRequest request,
        StreamObserver<WatchRunChangesResponse> out) {
      play("WatchRunChanges", request, out);
    }

    @Override
    public void executePipeline(ExecutePipelineRequest request,
        StreamObserver<ExecutePipelineResponse> out) {
      play("ExecutePipeline", request, out);
    }

    @Override
    public void batchGetPipelineRuns(BatchGetPipelineRunsRequest request,
        StreamObserver<BatchGetPipelineRunsResponse> out) {
      play("BatchGetPipelineRuns", request, out);
    }

    @Override
    public void listPipelines(ListPipelinesRequest request, StreamObserver<ListPipelinesResponse> out) {
      play("ListPipelines", request, out);
    }

    @Override
    public void listPipelineRuns(ListPipelineRunsRequest request,
        StreamObserver<ListPipelineRunsResponse> out) {
      play("ListPipelineRuns", request, out);
    }
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
