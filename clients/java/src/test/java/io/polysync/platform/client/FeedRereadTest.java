package io.polysync.platform.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.polysync.platform.v1.BatchGetPipelineRunsRequest;
import io.polysync.platform.v1.BatchGetPipelineRunsResponse;
import io.polysync.platform.v1.PipelineRun;
import io.polysync.platform.v1.RunChange;
import io.polysync.platform.v1.WatchRunChangesResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * What clients/feed-policy.json's scenarios leave out of the re-read at a relist's snapshot end:
 * more runs in flight than one BatchGetPipelineRuns call takes, and the call's platform, headers
 * and deadline, which are the feed's.
 */
class FeedRereadTest {
  private static String id(int i) {
    return String.format("r%04d", i);
  }

  @Test
  void aRelistRereadsEveryUnlistedRunInFlightAtMost1000ACallWithTheFeedsHeaders() throws Exception {
    int inFlight = 2500;
    try (ScriptedServer server = new ScriptedServer()) {
      WatchRunChangesResponse.Builder snapshot = WatchRunChangesResponse.newBuilder().setCursor("c1")
          .setSnapshotComplete(true);
      for (int i = 0; i < inFlight; i++) {
        snapshot.addChanges(RunChange.newBuilder().setVersion(1)
            .setRun(ScriptedServer.run(id(i), "RUNNING", false)));
      }
      server.script("WatchRunChanges", snapshot.build(),
          new ScriptedServer.Fail(Status.Code.FAILED_PRECONDITION, Reasons.CURSOR_EXPIRED));
      // The relist's snapshot lists r0001 only: the other 2499 are read, in the order first handed out.
      server.script("WatchRunChanges", WatchRunChangesResponse.newBuilder().setCursor("n1").setSnapshotComplete(true)
          .addChanges(RunChange.newBuilder().setVersion(4).setRun(ScriptedServer.run(id(1), "RUNNING", false)))
          .build(), new ScriptedServer.Fail(Status.Code.PERMISSION_DENIED, "CALLER_NOT_ALLOWED"));
      List<String> unlisted = IntStream.range(0, inFlight).filter(i -> i != 1).mapToObj(FeedRereadTest::id).toList();
      for (int from = 0; from < unlisted.size(); from += 1000) {
        BatchGetPipelineRunsResponse.Builder answer = BatchGetPipelineRunsResponse.newBuilder();
        for (String runId : unlisted.subList(from, Math.min(unlisted.size(), from + 1000))) {
          if (runId.equals(id(7))) {
            answer.addMissingRunIds(runId);
          } else {
            answer.addRuns(ScriptedServer.run(runId, "SUCCEEDED", true));
          }
        }
        server.script("BatchGetPipelineRuns", answer.build());
      }
      Metadata extra = new Metadata();
      extra.put(ScriptedServer.TEAM, "ingest");
      PlatformClient client = PlatformClient.wrap(server.channel, false).withHeaders(extra);
      List<FeedEvent> events = new ArrayList<>();
      StatusRuntimeException end;
      try (ChangeFeed feed = client.followChanges("gpu", Map.of(), "", Duration.ofMinutes(1), null)) {
        end = assertThrows(StatusRuntimeException.class, () -> feed.forEachRemaining(events::add));
      }
      assertEquals(Status.Code.PERMISSION_DENIED, end.getStatus().getCode());

      List<BatchGetPipelineRunsRequest> reads = server.requests(BatchGetPipelineRunsRequest.class);
      assertEquals(List.of(1000, 1000, 499), reads.stream().map(BatchGetPipelineRunsRequest::getRunIdsCount).toList());
      assertEquals(unlisted, reads.stream().flatMap(r -> r.getRunIdsList().stream()).toList());
      assertTrue(reads.stream().allMatch(r -> r.getPlatform().equals("gpu")), "read on another platform than the feed's");
      // Calls in order: WatchRunChanges ×2, then the three reads: each with the feed's headers and deadline.
      assertEquals(5, server.headers.size());
      for (Metadata headers : server.headers.subList(2, 5)) {
        assertEquals("ingest", headers.get(ScriptedServer.TEAM));
        assertTrue(headers.containsKey(Metadata.Key.of("grpc-timeout", Metadata.ASCII_STRING_MARSHALLER)),
            "a read without the feed's deadline");
      }

      List<FeedEvent> afterRelist = events.subList(events.indexOf(events.stream()
          .filter(e -> e.kind() == FeedEvent.Kind.RELIST).findFirst().orElseThrow()) + 1, events.size());
      assertEquals(1 + unlisted.size() + 1, afterRelist.size());
      assertEquals(id(1) + " 4", afterRelist.get(0).run().getRunId() + " " + afterRelist.get(0).version());
      List<FeedEvent> reread = afterRelist.subList(1, afterRelist.size() - 1);
      // Each call's runs, then its missing ids: r0007 comes after the other 999 of the first call.
      List<String> expected = new ArrayList<>(unlisted);
      expected.remove(id(7));
      expected.add(999, id(7));
      assertEquals(expected, reread.stream().map(e -> e.run().getRunId()).toList());
      assertTrue(reread.stream().allMatch(e -> e.version() == 0 && e.cursor().isEmpty()));
      assertEquals(1, reread.stream().filter(e -> e.kind() == FeedEvent.Kind.GONE).count());
      FeedEvent gone = reread.stream().filter(e -> e.kind() == FeedEvent.Kind.GONE).findFirst().orElseThrow();
      assertEquals(PipelineRun.newBuilder().setRunId(id(7)).build(), gone.run());
      assertEquals(FeedEvent.Kind.SNAPSHOT_COMPLETE, afterRelist.get(afterRelist.size() - 1).kind());
      assertEquals("n1", afterRelist.get(afterRelist.size() - 1).cursor());
    }
  }
}
