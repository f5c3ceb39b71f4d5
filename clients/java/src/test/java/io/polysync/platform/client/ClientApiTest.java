package io.polysync.platform.client;

import static io.polysync.platform.client.ScriptedServer.event;
import static io.polysync.platform.client.ScriptedServer.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Metadata;
import io.polysync.platform.v1.ListPipelinesRequest;
import io.polysync.platform.v1.ListPipelinesResponse;
import io.polysync.platform.v1.Pipeline;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 20 item 6: for-each over watches and logs, close() without checked exceptions, a default deadline. */
class ClientApiTest {
  private static final Metadata.Key<String> TIMEOUT = Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER);

  @Test
  void aWatchIsIterableWithForEach() throws Exception {
    try (ScriptedServer server = new ScriptedServer()) {
      server.script("WatchPipelineRun", event(run("r1", "RUNNING", false)), event(run("r1", "SUCCEEDED", true)));
      List<String> states = new ArrayList<>();
      try (RunWatch watch = PlatformClient.wrap(server.channel, false).watchRun("r1", null)) {
        for (RunEvent event : watch) {
          states.add(event.run().getNativeStatus());
        }
      }
      assertEquals(List.of("RUNNING", "SUCCEEDED"), states);
    }
  }

  /** Compiles only because close() throws no checked exception: this method declares none. */
  @Test
  void closeThrowsNoCheckedException() {
    try (PlatformClient client = PlatformClient.connect("127.0.0.1:1").build()) {
      assertTrue(client.channel() != null);
    }
    Iterable<?> logs = LogStream.class.getInterfaces()[1] == Iterable.class ? List.of() : null;
    assertTrue(Iterable.class.isAssignableFrom(LogStream.class) && logs != null);
  }

  @Test
  void aDefaultDeadlineReachesUnaryCallsWithoutOneButNotStreams() throws Exception {
    try (ScriptedServer server = new ScriptedServer()) {
      server.script("ListPipelines", ListPipelinesResponse.newBuilder()
          .addPipelines(Pipeline.newBuilder().setName("greet")).build());
      server.script("WatchPipelineRun", event(run("r1", "SUCCEEDED", true)));
      PlatformClient client = PlatformClient.wrap(server.channel, false).withDefaultDeadline(Duration.ofSeconds(7));
      client.blockingStub().listPipelines(ListPipelinesRequest.getDefaultInstance());
      try (RunWatch watch = client.watchRun("r1", null)) {
        watch.forEachRemaining(e -> { });
      }
      String unary = server.headers.get(0).get(TIMEOUT);
      assertTrue(unary != null && !unary.isEmpty(), "the unary call had no deadline");
      assertNull(server.headers.get(1).get(TIMEOUT), "a watch without a timeout got the default deadline");
    }
  }
}
