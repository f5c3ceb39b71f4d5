package io.polysync.platform.client;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The real server with its embedded AWS Batch emulator, for the tests of one class: runs {@code
 * .venv/bin/python -m tests.live_stack [options]} in the repository root, reads the lines it
 * prints before {@code ready <port>} (the CA and client certificate with {@code --tls}/{@code
 * --mtls}, the JWT signing key, issuer and audience with {@code --jwt}), and builds a client of
 * the server with the client library's own connect ({@link #connect()}). The server's log
 * (stderr) is kept in {@code target/live-stack-<class>[-<name>].log}. Closing the server's stdin
 * stops it.
 *
 * <pre>{@code @RegisterExtension static final LiveStack STACK = LiveStack.secured();}</pre>
 *
 * <p>A secured stack remembers every token and JWT it handed to the tests; after the server has
 * stopped, {@link #afterAll} fails the class if any of them (or a JWT's signature) reached the
 * server's log.
 */
public final class LiveStack implements BeforeAllCallback, AfterAllCallback {
  private static final long START_TIMEOUT_SECONDS = 60;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final String name;
  private final List<String> options;
  private final List<String> secrets = new CopyOnWriteArrayList<>();
  private final Map<String, String> printed = new HashMap<>();
  private String token;
  private String readerToken;
  private Process process;
  private BufferedReader stdout;
  private PlatformClient client;
  private int port;
  private Path log;
  private byte[] caPem;
  private byte[] clientCertificatePem;
  private byte[] clientKeyPem;
  private PrivateKey jwtKey;

  private LiveStack(String name, List<String> options) {
    this.name = name;
    this.options = options;
  }

  /**
   * TLS (a CA of its own), the static tokens of callers "client" (may submit) and "reader" (may
   * only read), both random, and JWT callers: {@code --tls --token T --reader-token R --jwt}.
   */
  public static LiveStack secured() {
    LiveStack stack = new LiveStack("", new ArrayList<>());
    stack.token = randomToken();
    stack.readerToken = randomToken();
    // "--token=T": a random token may begin with "-", which argparse would take for an option
    stack.options.addAll(List.of("--tls", "--token=" + stack.token,
        "--reader-token=" + stack.readerToken, "--jwt"));
    stack.secrets.addAll(List.of(stack.token, stack.readerToken));
    return stack;
  }

  /** Mutual TLS and no tokens: a client certificate is required and its CN names the caller. */
  public static LiveStack mutualTls() {
    return new LiveStack("mtls", List.of("--mtls"));
  }

  /**
   * The server in a child process of its own (plaintext, no caller auth) that {@link #restart()}
   * KILLS (SIGKILL) and starts again on the same port, while the emulator lives on: {@code
   * --server-process}, plus {@code --history} (the demo's feed history in the emulator's DynamoDB
   * table, as {@code serve} runs the demo) when {@code history}.
   */
  public static LiveStack serverProcess(boolean history) {
    return history ? new LiveStack("history", List.of("--server-process", "--history"))
        : new LiveStack("killed", List.of("--server-process"));
  }

  /** A line "NAME VALUE" the stack printed (the latest), e.g. "server-pid"; null when none. */
  public String printed(String name) {
    return printed.get(name);
  }

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
    log = logDir.resolve("live-stack-" + context.getRequiredTestClass().getSimpleName()
        + (name.isEmpty() ? "" : "-" + name) + ".log");

    List<String> command = new ArrayList<>(List.of(python.toString(), "-m", "tests.live_stack"));
    command.addAll(options);
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(root.toFile())
        .redirectError(log.toFile());
    builder.environment().put("PYTHONUNBUFFERED", "1");
    process = builder.start();
    stdout = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    try {
      port = awaitReady(true);
      // The files live in the stack's temporary directory, removed when it stops: read them now.
      if (printed.containsKey("tls-ca")) {
        caPem = Files.readAllBytes(Paths.get(printed.get("tls-ca")));
        clientCertificatePem = Files.readAllBytes(Paths.get(printed.get("tls-client-cert")));
        clientKeyPem = Files.readAllBytes(Paths.get(printed.get("tls-client-key"))); // SEC1 EC, as written
      }
      if (printed.containsKey("jwt-key")) {
        jwtKey = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(
            PrivateKeys.decode(Files.readAllBytes(Paths.get(printed.get("jwt-key"))), "PRIVATE KEY")));
      }
    } catch (Exception e) {
      stop();
      throw e;
    }
    PlatformClient.Builder connect = connect();
    client = (token == null ? connect : connect.bearerToken(token)).build();
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (client != null) {
      client.close();
    }
    stop();
    if (log != null) {
      assertLogHoldsNoSecrets(); // the whole log now, shutdown included
    }
  }

  /**
   * Stops the server (open watch streams end UNAVAILABLE) and serves again on the same port with
   * the same emulator, certificates and keys; returns once it is ready.
   */
  public void restart() throws Exception {
    process.getOutputStream().write("restart\n".getBytes(StandardCharsets.UTF_8));
    process.getOutputStream().flush();
    awaitReady(false);
  }

  /** The server's address, {@code 127.0.0.1:<port>}. */
  public String target() {
    return "127.0.0.1:" + port;
  }

  /**
   * The client library's own connect to this server, to be completed by the test: TLS trusting
   * the stack's CA when it speaks TLS, else plaintext; no client certificate, no token.
   */
  public PlatformClient.Builder connect() {
    PlatformClient.Builder builder = PlatformClient.connect(target());
    return caPem == null ? builder : builder.trustCertificates(caPem);
  }

  /**
   * The client the tests of the class share: {@link #connect()} with caller "client"'s token on
   * a secured stack. Closed after the class.
   */
  public PlatformClient client() {
    return client;
  }

  /** The static bearer token of caller "client" (may submit on demo). */
  public String token() {
    return token;
  }

  /** The static bearer token of caller "reader" (may only read on demo). */
  public String readerToken() {
    return readerToken;
  }

  /** The stack's CA (PEM), with {@code --tls} or {@code --mtls}. */
  public byte[] caPem() {
    return caPem.clone();
  }

  /** The file of the stack's CA (PEM), there while the stack runs. */
  public Path caFile() {
    return Paths.get(printed.get("tls-ca"));
  }

  /** The certificate of caller "cert-client" (PEM), signed by the stack's CA. */
  public byte[] clientCertificatePem() {
    return clientCertificatePem.clone();
  }

  /**
   * Its private key as the stack wrote it: an EC key in SEC1 form ("BEGIN EC PRIVATE KEY"), which
   * PlatformClient.Builder.clientCertificate rewraps as the PKCS#8 grpc-java reads.
   */
  public byte[] clientKeyPem() {
    return clientKeyPem.clone();
  }

  /**
   * A fresh RS256 JWT of the stack's issuer and audience for {@code subject}, lasting {@code
   * lifetime} from now (whole seconds: {@code exp = iat + lifetime}), signed with only the JDK:
   * header {@code {"alg":"RS256","typ":"JWT","kid":"live"}}, RSASSA-PKCS1-v1_5 with SHA-256.
   * Remembered as a secret the server's log must not hold.
   */
  public String jwt(String subject, Duration lifetime) {
    long now = System.currentTimeMillis() / 1000;
    String header = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"live\"}";
    String claims = "{\"iss\":" + json(printed.get("jwt-issuer"))
        + ",\"aud\":" + json(printed.get("jwt-audience"))
        + ",\"sub\":" + json(subject)
        + ",\"iat\":" + now + ",\"exp\":" + (now + lifetime.toSeconds()) + "}";
    Base64.Encoder base64url = Base64.getUrlEncoder().withoutPadding();
    String signed = base64url.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
        + base64url.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
    try {
      Signature rs256 = Signature.getInstance("SHA256withRSA");
      rs256.initSign(jwtKey);
      rs256.update(signed.getBytes(StandardCharsets.US_ASCII));
      String signature = base64url.encodeToString(rs256.sign());
      secrets.add(signed + "." + signature);
      secrets.add(signature);
      return signed + "." + signature;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign a JWT", e);
    }
  }

  /** The server's log (stderr) so far: JSON lines, one per RPC naming the caller. */
  public String logText() throws IOException {
    return Files.readString(log, StandardCharsets.UTF_8);
  }

  /**
   * Fails if the server's log holds a token or JWT this stack handed out, or a JWT's signature;
   * and if it has no access-log line naming a caller while tokens were handed out.
   */
  public void assertLogHoldsNoSecrets() throws IOException {
    String text = logText();
    if (token != null && !(text.contains("\"rpc\"") && text.contains("\"caller\""))) {
      throw new AssertionError("no access-log line naming a caller in " + log);
    }
    for (String secret : secrets) {
      if (text.contains(secret)) {
        throw new AssertionError("a secret reached the server log " + log + ": "
            + secret.substring(0, 6) + "…");
      }
    }
  }

  /** Reads the lines before {@code ready <port>} into {@link #printed}; returns the port. */
  private int awaitReady(boolean first) throws Exception {
    while (true) {
      String line;
      try {
        line = CompletableFuture.supplyAsync(() -> readLine(stdout))
            .get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (TimeoutException | ExecutionException e) {
        throw new IllegalStateException("live stack did not " + (first ? "start" : "restart")
            + "; see " + log, e);
      }
      if (line == null) {
        throw new IllegalStateException("live stack exited before 'ready <port>'; see " + log);
      }
      String[] parts = line.trim().split(" ", 2);
      if (parts[0].equals("ready") && parts.length == 2) {
        return Integer.parseInt(parts[1].trim());
      }
      if (parts.length != 2 || !(parts[0].startsWith("tls-") || parts[0].startsWith("jwt-")
          || parts[0].startsWith("server-"))) {
        throw new IllegalStateException("live stack printed '" + line
            + "' instead of 'ready <port>'; see " + log);
      }
      printed.put(parts[0], parts[1].trim());
    }
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

  private static String randomToken() {
    byte[] bytes = new byte[24];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** A JSON string literal of {@code value} (the claims here are plain ASCII). */
  private static String json(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
