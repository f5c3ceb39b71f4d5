package io.polysync.platform.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.polysync.platform.v1.ExecutePipelineRequest;
import io.polysync.platform.v1.GetPipelineRunRequest;
import io.polysync.platform.v1.ListPipelineRunsRequest;
import io.polysync.platform.v1.PipelineRun;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link PlatformClient#followChanges} against the real server run as a process of its own
 * ({@code tests/live_stack.py --server-process}), KILLED (SIGKILL) in the middle of the feed and
 * started again on the same port. SPEC §12: without a history table the history lives in the
 * process, so the old cursor is CURSOR_EXPIRED and the helper relists; with the demo's history
 * table the cursor stays valid and the helper resumes. Checked against the runs the emulator holds
 * (ListPipelineRuns): every submitted run's terminal state handed out, no (run_id, version) twice.
 * This class: no history table; {@link FollowChangesHistoryLiveTest}: the demo's table.
 */
@Tag("live")
class FollowChangesLiveTest {
  @RegisterExtension static final LiveStack STACK = LiveStack.serverProcess(false);

  /**
   * Without a history table: the kill makes the cursor CURSOR_EXPIRED, the helper relists; the run
   * that ended while the feed could not follow (not in the relist's snapshot of non-terminal runs)
   * is read again at the snapshot's end and handed out with its terminal state, as version 0.
   */
  @Test
  void relistsAfterTheServerIsKilled() throws Exception {
    Followed followed = follow(STACK);
    List<FeedEvent> events = followed.events();
    List<FeedEvent> relists = events.stream().filter(e -> e.kind() == FeedEvent.Kind.RELIST).toList();
    assertEquals(1, relists.size(), "one relist after the kill");
    assertEquals("", relists.get(0).cursor());
    List<FeedEvent> after = events.subList(events.indexOf(relists.get(0)), events.size());
    assertTrue(after.stream().anyMatch(e -> e.kind() == FeedEvent.Kind.SNAPSHOT_COMPLETE), "no new snapshot after the relist");
    List<FeedEvent> ended = after.stream().filter(e -> e.kind() == FeedEvent.Kind.CHANGE
        && e.run().getRunId().equals(followed.endedWhileDown())).toList();
    assertFalse(ended.isEmpty(), "run " + followed.endedWhileDown() + ", which ended while the feed could not follow,"
        + " is not handed out after the relist");
    assertEquals("SUCCEEDED", ended.get(0).run().getNativeStatus());
    assertEquals(0, ended.get(0).version(), "a run read again after a relist has version 0");
    assertTrue(after.indexOf(ended.get(0)) < after.indexOf(after.stream()
        .filter(e -> e.kind() == FeedEvent.Kind.SNAPSHOT_COMPLETE).findFirst().orElseThrow()),
        "the run read again is handed out before the snapshot's end");
  }

  private static void until(String what, BooleanSupplier condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(100);
    }
  }

  private static boolean seen(List<FeedEvent> events, String runId, java.util.function.Predicate<PipelineRun> state) {
    return events.stream().anyMatch(e -> e.kind() == FeedEvent.Kind.CHANGE && e.run().getRunId().equals(runId)
        && state.test(e.run()));
  }

  private static String submit(PlatformClient client, int seconds) {
    // waitForReady: right after the kill the channel's connection is broken until it reconnects.
    return client.blockingStub().withDeadlineAfter(30, TimeUnit.SECONDS).withWaitForReady()
        .executePipeline(ExecutePipelineRequest.newBuilder().setPipeline("hello")
            .putParameters("duration_seconds", Integer.toString(seconds)).build())
        .getRun().getRunId();
  }

  /** What {@link #follow} saw: every event handed out, and the id of the run that ended while the feed was held. */
  record Followed(List<FeedEvent> events, String endedWhileDown) {}

  /** Follows the feed while runs are submitted and the server is killed; returns what it handed out. */
  static List<FeedEvent> killInTheMiddle(LiveStack stack) throws Exception {
    return follow(stack).events();
  }

  /**
   * {@link #killInTheMiddle}, and which run ended while the feed could not follow: a short run,
   * handed out not terminal yet; the follower is held right after that event (so the feed reads
   * nothing more) while the server is killed and restarted and until the run has ended, then let go.
   */
  static Followed follow(LiveStack stack) throws Exception {
    try (PlatformClient client = stack.connect().policy(
        new ReconnectPolicy(Duration.ofMillis(100), Duration.ofSeconds(1), 0.2, 30)).build()) {
      Instant started = Instant.now();
      List<FeedEvent> events = new CopyOnWriteArrayList<>();
      List<Status.Code> reconnects = new CopyOnWriteArrayList<>();
      RuntimeException[] failure = new RuntimeException[1];
      ChangeFeed feed = client.followChanges("", Map.of(), "", null,
          (attempt, delay, cause) -> reconnects.add(Status.fromThrowable(cause).getCode()));
      List<String> submitted = new CopyOnWriteArrayList<>();
      boolean[] holding = new boolean[1]; // hold at the next change of a run not submitted yet (set under lock)
      CountDownLatch parked = new CountDownLatch(1);
      CountDownLatch letGo = new CountDownLatch(1);
      Thread follower = new Thread(() -> {
        try {
          for (FeedEvent event : feed) {
            events.add(event);
            boolean hold;
            synchronized (holding) {
              hold = holding[0] && event.kind() == FeedEvent.Kind.CHANGE && !event.run().getTerminal()
                  && !submitted.contains(event.run().getRunId());
              holding[0] &= !hold;
            }
            if (hold) {
              parked.countDown();
              letGo.await();
            }
          }
        } catch (RuntimeException e) {
          failure[0] = e;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "feed-follower");
      follower.start();
      try {
        until("the snapshot is complete", () -> events.stream().anyMatch(e -> e.kind() == FeedEvent.Kind.SNAPSHOT_COMPLETE),
            Duration.ofSeconds(45));
        // Long enough to be running across the restart (a killed server takes seconds to come back
        // on this shared machine): a relist's snapshot lists them again. (A run that ends while no
        // server runs is not in a relist's snapshot of non-terminal runs, SPEC §12: the helper reads
        // it again at the snapshot's end; the short run below is one.)
        for (int i = 0; i < 3; i++) {
          submitted.add(submit(client, 30));
        }
        until("every run is seen RUNNING", () -> submitted.stream()
            .allMatch(id -> seen(events, id, r -> r.getNativeStatus().equals("RUNNING"))), Duration.ofSeconds(45));
        // A short run, handed out not terminal yet: the follower is held right after it, so the feed
        // reads nothing more until the run has ended and the server was killed and started again.
        synchronized (holding) {
          holding[0] = true;
        }
        String endedWhileDown = submit(client, 1);
        assertTrue(parked.await(45, TimeUnit.SECONDS), "the short run was never handed out");
        assertTrue(seen(events, endedWhileDown, r -> !r.getTerminal()), "the feed held at another run than the short one");
        String pid = stack.printed("server-pid");
        int beforeKill = events.size();
        long killed = System.nanoTime();
        stack.restart(); // SIGKILL, then a new server process on the same port
        System.err.printf("FollowChangesLiveTest: the killed server served again after %.1f s%n",
            (System.nanoTime() - killed) / 1e9);
        assertNotEquals(pid, stack.printed("server-pid"), "the server process was not replaced");
        until("the short run has ended", () -> client.blockingStub().withDeadlineAfter(30, TimeUnit.SECONDS)
            .withWaitForReady().getPipelineRun(GetPipelineRunRequest.newBuilder().setRunId(endedWhileDown).build())
            .getRun().getTerminal(), Duration.ofSeconds(45));
        submitted.add(endedWhileDown);
        letGo.countDown();
        for (int i = 0; i < 2; i++) {
          submitted.add(submit(client, 2));
        }
        try {
          until("every submitted run's terminal state is handed out", () -> submitted.stream()
              .allMatch(id -> seen(events, id, PipelineRun::getTerminal)), Duration.ofSeconds(60));
        } catch (AssertionError e) {
          StringBuilder seenEvents = new StringBuilder();
          for (FeedEvent event : events) {
            seenEvents.append(event.kind()).append(event.kind() == FeedEvent.Kind.CHANGE
                ? " " + event.run().getRunId().substring(0, 8) + " " + event.run().getNativeStatus() + " " + event.version()
                : "").append("; ");
          }
          throw new AssertionError(e.getMessage() + "; submitted " + submitted + "; handed out: " + seenEvents
              + "; the feed ended with: " + failure[0], e);
        }

        // What the emulator holds: every run on the demo queue, read through the server.
        Map<String, String> held = new HashMap<>();
        // (Runs created before the feed started, by another test on this stack, are not its to hand out.)
        client.listRuns(ListPipelineRunsRequest.getDefaultInstance(), Duration.ofSeconds(30)).forEach(r -> {
          if (!Instant.ofEpochSecond(r.getCreateTime().getSeconds(), r.getCreateTime().getNanos()).isBefore(started)) {
            held.put(r.getRunId(), r.getNativeStatus());
          }
        });
        for (String id : submitted) {
          assertEquals("SUCCEEDED", held.get(id), "run " + id + " at the emulator");
        }
        for (Map.Entry<String, String> run : held.entrySet()) {
          FeedEvent last = null;
          for (FeedEvent e : events) {
            if (e.kind() == FeedEvent.Kind.CHANGE && e.run().getRunId().equals(run.getKey())) {
              last = e;
            }
          }
          assertNotNull(last, "the feed never handed out run " + run.getKey() + ", which the emulator holds");
          assertEquals(run.getValue(), last.run().getNativeStatus(), "run " + run.getKey() + ": feed vs emulator");
        }
        // No (run_id, version) twice, and versions only go up, between relists (a relist starts anew).
        Map<String, Long> epoch = new HashMap<>();
        for (FeedEvent e : events) {
          if (e.kind() == FeedEvent.Kind.RELIST) {
            epoch.clear();
          }
          if (e.kind() != FeedEvent.Kind.CHANGE) {
            continue;
          }
          Long last = epoch.get(e.run().getRunId());
          assertTrue(last == null || e.version() > last, "run " + e.run().getRunId() + " version " + e.version()
              + " after " + last);
          epoch.put(e.run().getRunId(), e.version());
        }
        assertFalse(reconnects.isEmpty(), "followChanges never reconnected");
        assertEquals(Status.Code.UNAVAILABLE, reconnects.get(0));
        assertTrue(events.size() > beforeKill);
        assertNull(failure[0]);
        return new Followed(List.copyOf(events), endedWhileDown);
      } finally {
        letGo.countDown();
        feed.close();
        follower.join(10_000);
      }
    }
  }
}
