package io.polysync.platform.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polysync.platform.client.examples.Quickstart;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Keeps the README's "Calling from Java" example (examples/Quickstart.java) true, against a
 * server with TLS and a bearer token (the example's POLYSYNC_CA_FILE and POLYSYNC_TOKEN).
 */
@Tag("live")
class QuickstartTest {
  @RegisterExtension static final LiveStack STACK = LiveStack.secured();

  @Test
  void quickstartRunsGreetToSucceededOverTlsWithAToken() throws Exception {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream stdout = System.out;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      Quickstart.run(STACK.target(), Map.of("POLYSYNC_CA_FILE", STACK.caFile().toString(),
          "POLYSYNC_TOKEN", STACK.token()));
    } finally {
      System.setOut(stdout);
    }
    String output = captured.toString(StandardCharsets.UTF_8);

    List<String> lines = output.lines().collect(Collectors.toList());
    assertTrue(lines.get(0).matches("started \\S+"), output);
    assertTrue(lines.contains("RUNNING"), output);
    assertEquals("SUCCEEDED", lines.get(lines.size() - 2), output);
    assertTrue(lines.get(lines.size() - 1).startsWith("RUN_STATUS_SUCCEEDED"), output);
  }
}
