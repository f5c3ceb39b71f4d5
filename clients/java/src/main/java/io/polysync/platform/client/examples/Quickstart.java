package io.polysync.platform.client.examples;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.polysync.platform.v1.ExecutePipelineRequest;
import io.polysync.platform.v1.PipelineRun;
import io.polysync.platform.v1.PlatformServiceGrpc;
import io.polysync.platform.v1.PlatformServiceGrpc.PlatformServiceBlockingStub;
import io.polysync.platform.v1.WatchPipelineRunRequest;
import io.polysync.platform.v1.WatchPipelineRunResponse;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/** Runs the demo pipeline "greet" and follows the run to its end. */
public final class Quickstart {
  public static void main(String[] args) throws InterruptedException {
    String target = args.length > 0 ? args[0] : "127.0.0.1:50051";
    ManagedChannel channel =
        Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
    try {
      PlatformServiceBlockingStub platform = PlatformServiceGrpc.newBlockingStub(channel);

      PipelineRun run = platform.executePipeline(ExecutePipelineRequest.newBuilder()
              .setPipeline("greet")
              .putParameters("name", "Ada")
              .build())
          .getRun();
      System.out.println("started " + run.getRunId());

      // The first event is the current state; the stream ends after the terminal one.
      Iterator<WatchPipelineRunResponse> events = platform.watchPipelineRun(
          WatchPipelineRunRequest.newBuilder().setRunId(run.getRunId()).build());
      while (events.hasNext()) {
        run = events.next().getRun();
        System.out.println(run.getNativeStatus());
      }
      System.out.println(run.getStatus() + " " + run.getMessage());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
