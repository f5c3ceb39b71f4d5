package io.polysync.platform.client;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The real server with its embedded AWS Batch emulator, for the tests of one class: runs {@code
 * .venv/bin/python -m tests.live_stack} in the repository root, waits for its {@code ready
 * <port>} line, and opens a plaintext channel to it. Closing the server's stdin stops it.
 *
 * <pre>{@code @RegisterExtension static final LiveStack STACK = new LiveStack();}</pre>
 */
public final class LiveStack implements BeforeAllCallback, AfterAllCallback {
  private static final long START_TIMEOUT_SECONDS = 60;

  private Process process;
  private BufferedReader stdout;
  private ManagedChannel channel;
  private int port;
  private Path log;

  /** The repository root: from the system property Surefire sets, else two levels up. */
  static Path repoRoot() {
    String configured = System.getProperty("polysync.repo.root");
    return Paths.get(configured != null ? configured : "../..").toAbsolutePath().normalize();
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    Path root = repoRoot();
    Path python = root.resolve(".venv/bin/python");
    if (!Files.isExecutable(python)) {
      throw new IllegalStateException(
          python + " not found: set up the Python environment first (`make setup`)");
    }
    Path logDir = Paths.get("target").toAbsolutePath();
    Files.createDirectories(logDir);
    log = logDir.resolve("live-stack-" + context.getRequiredTestClass().getSimpleName() + ".log");

    ProcessBuilder builder = new ProcessBuilder(python.toString(), "-m", "tests.live_stack")
        .directory(root.toFile())
        .redirectError(log.toFile());
    builder.environment().put("PYTHONUNBUFFERED", "1");
    process = builder.start();

    stdout = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line;
    try {
      line = CompletableFuture.supplyAsync(() -> readLine(stdout))
          .get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException | ExecutionException e) {
      stop();
      throw new IllegalStateException("live stack did not start; see " + log, e);
    }
    if (line == null || !line.startsWith("ready ")) {
      stop();
      throw new IllegalStateException(
          "live stack printed " + line + " instead of 'ready <port>'; see " + log);
    }
    port = Integer.parseInt(line.substring("ready ".length()).trim());
    channel = Grpc.newChannelBuilder(target(), InsecureChannelCredentials.create()).build();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    stop();
  }

  /**
   * Stops the server (open watch streams end UNAVAILABLE) and serves again on the same port with
   * the same emulator; returns once it is ready.
   */
  public void restart() throws Exception {
    process.getOutputStream().write("restart\n".getBytes(StandardCharsets.UTF_8));
    process.getOutputStream().flush();
    String line = CompletableFuture.supplyAsync(() -> readLine(stdout))
        .get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    if (line == null || !line.startsWith("ready ")) {
      throw new IllegalStateException("live stack printed " + line + " after restart; see " + log);
    }
  }

  /** The server's address, {@code 127.0.0.1:<port>}. */
  public String target() {
    return "127.0.0.1:" + port;
  }

  /** A plaintext channel to the server, shared by the tests of the class. */
  public ManagedChannel channel() {
    return channel;
  }

  private void stop() throws InterruptedException {
    if (process == null) {
      return;
    }
    try {
      process.getOutputStream().close(); // EOF on stdin: the live stack stops and exits 0
    } catch (IOException ignored) {
      // already gone
    }
    if (!process.waitFor(15, TimeUnit.SECONDS)) {
      process.destroy();
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }
    process = null;
  }

  private static String readLine(BufferedReader reader) {
    try {
      return reader.readLine();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
