package io.polysync.platform.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link FollowChangesLiveTest}'s kill in the middle, with the demo's feed history in the
 * emulator's DynamoDB table ({@code --history}, as {@code serve} runs the demo): SPEC §12 keeps
 * the cursor valid across the restart, so the helper resumes without a relist.
 */
@Tag("live")
class FollowChangesHistoryLiveTest {
  @RegisterExtension static final LiveStack STACK = LiveStack.serverProcess(true);

  @Test
  void resumesFromItsCursorAfterTheServerIsKilled() throws Exception {
    List<FeedEvent> events = FollowChangesLiveTest.killInTheMiddle(STACK);
    assertTrue(events.stream().noneMatch(e -> e.kind() == FeedEvent.Kind.RELIST),
        "the history table keeps the cursor valid across the restart (SPEC §12)");
    assertEquals(1, events.stream().filter(e -> e.kind() == FeedEvent.Kind.SNAPSHOT_COMPLETE).count(),
        "a resume sends no new snapshot");
  }
}
