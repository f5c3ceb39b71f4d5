package io.polysync.platform.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polysync.platform.client.examples.FollowAndExplain;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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

  /** The README's example (examples/FollowAndExplain.java), quoted there verbatim, runs as shown. */
  @Test
  void readmeExampleExplainsAFailureAndFollowsTheFeed() throws Exception {
    String source = Files.readString(LiveStack.repoRoot().resolve(
        "clients/java/src/test/java/io/polysync/platform/client/examples/FollowAndExplain.java"));
    String readme = Files.readString(LiveStack.repoRoot().resolve("clients/java/README.md"));
    String body = source.substring(source.indexOf("public final class"));
    assertTrue(readme.contains(body.strip()), "clients/java/README.md does not quote examples/FollowAndExplain.java");
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try (PlatformClient client = STACK.connect().build()) {
      FollowAndExplain.run(client);
    } finally {
      System.setOut(stdout);
    }
    List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals("FAILURE_CAUSE_OUT_OF_MEMORY after 1 attempt(s)", lines.get(0), lines.toString());
    assertTrue(lines.get(1).startsWith("failed: OUT_OF_MEMORY after 1 attempt: "), lines.toString());
    assertTrue(lines.get(2).startsWith("  attempt 1: OUT_OF_MEMORY, exit code 137: "), lines.toString());
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("  advice: ")), lines.toString());
    assertTrue(lines.get(lines.size() - 1).matches("\\S+ v\\d+ SUCCEEDED cursor=\\S+"), lines.toString());
  }
}
