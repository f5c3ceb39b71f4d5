package io.polysync.platform.client.examples;

import io.grpc.StatusRuntimeException;
import io.polysync.platform.client.Errors;
import io.polysync.platform.client.PlatformClient;
import io.polysync.platform.client.RunEvent;
import io.polysync.platform.client.RunWatch;
import io.polysync.platform.v1.ExecutePipelineRequest;
import io.polysync.platform.v1.PipelineRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the demo pipeline "greet" and follows the run to its end. Against a server with TLS and
 * caller auth: POLYSYNC_CA_FILE (the CA to trust), POLYSYNC_TOKEN (a bearer token) and, for
 * mutual TLS, POLYSYNC_CLIENT_CERT and POLYSYNC_CLIENT_KEY (PEM files).
 */
public final class Quickstart {
  public static void main(String[] args) throws IOException {
    run(args.length > 0 ? args[0] : "127.0.0.1:50051", System.getenv());
  }

  public static void run(String target, Map<String, String> env) throws IOException {
    PlatformClient.Builder connect = PlatformClient.connect(target);
    if (env.containsKey("POLYSYNC_CA_FILE")) {
      connect.trustCertificates(Files.readAllBytes(Path.of(env.get("POLYSYNC_CA_FILE"))));
    }
    if (env.containsKey("POLYSYNC_CLIENT_CERT")) {
      connect.clientCertificate(Files.readAllBytes(Path.of(env.get("POLYSYNC_CLIENT_CERT"))),
          Files.readAllBytes(Path.of(env.get("POLYSYNC_CLIENT_KEY"))));
    }
    if (env.containsKey("POLYSYNC_TOKEN")) {
      connect.bearerToken(env.get("POLYSYNC_TOKEN"));
    }
    try (PlatformClient client = connect.build()) {
      PipelineRun run;
      try {
        run = client.blockingStub().withDeadlineAfter(30, TimeUnit.SECONDS)
            .executePipeline(ExecutePipelineRequest.newBuilder()
                .setPipeline("greet")
                .putParameters("name", "Ada")
                .build())
            .getRun();
      } catch (StatusRuntimeException e) {
        System.err.println("execute failed: " + e.getStatus().getCode() + " " + Errors.reason(e));
        throw e;
      }
      System.out.println("started " + run.getRunId());

      // Each new state until the run is terminal; reconnects with backoff if the server restarts.
      try (RunWatch watch = client.watchRun(run.getRunId(), Duration.ofMinutes(5))) {
        for (RunEvent event : watch) {
          run = event.run();
          if (!event.heartbeat()) {
            System.out.println(run.getNativeStatus() + (event.staleSince() != null ? " (stale)" : ""));
          }
        }
      }
      System.out.println(run.getStatus() + " " + run.getMessage());
    }
  }
}
