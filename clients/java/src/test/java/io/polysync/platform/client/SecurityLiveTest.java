package io.polysync.platform.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.polysync.platform.v1.ExecutePipelineRequest;
import io.polysync.platform.v1.ListPipelinesRequest;
import io.polysync.platform.v1.PipelineRun;
import io.polysync.platform.v1.PlatformServiceGrpc.PlatformServiceBlockingStub;
import io.polysync.platform.v1.RunStatus;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * TLS and caller identity (SPEC §8.1/§8.2) through the client's own connect: a stack with TLS,
 * static tokens and JWT callers, and one with mutual TLS. The last test greps the secured
 * server's log for every token and JWT sent.
 */
@Tag("live")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecurityLiveTest {
  @RegisterExtension static final LiveStack STACK = LiveStack.secured();
  @RegisterExtension static final LiveStack MTLS = LiveStack.mutualTls();

  private static final ListPipelinesRequest LIST = ListPipelinesRequest.getDefaultInstance();
  private static final ExecutePipelineRequest HELLO =
      ExecutePipelineRequest.newBuilder().setPipeline("hello").build();

  private static PlatformServiceBlockingStub stub(PlatformClient client) {
    return client.blockingStub().withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @Test
  void aTokenCallerOverTlsSubmitsAndWatchesARunToSucceeded() throws Exception {
    try (PlatformClient client = PlatformClient.connect(STACK.target())
        .trustCertificates(STACK.caPem())
        .bearerToken(STACK.token())
        .build()) {
      PipelineRun run = client.execute(HELLO, Duration.ofSeconds(60));
      assertEquals(RunStatus.RUN_STATUS_SUCCEEDED, run.getStatus());
    }
  }

  @Test
  void theReaderMayListButItsSubmitIsPermissionDeniedCallerNotAllowed() throws Exception {
    try (PlatformClient reader = STACK.connect().bearerToken(STACK.readerToken()).build()) {
      assertFalse(stub(reader).listPipelines(LIST).getPipelinesList().isEmpty());
      StatusRuntimeException denied = assertThrows(StatusRuntimeException.class,
          () -> stub(reader).executePipeline(HELLO));

      assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
      assertEquals(Reasons.CALLER_NOT_ALLOWED, Errors.reason(denied));
      ErrorInfo info = Errors.errorInfo(denied).orElseThrow();
      assertEquals("reader", info.getMetadataMap().get("caller"));
      assertEquals("demo", info.getMetadataMap().get("platform"));
    }
  }

  @Test
  void anUnknownTokenAndNoTokenAreUnauthenticatedCallerUnauthenticated() throws Exception {
    try (PlatformClient unknown = STACK.connect().bearerToken("not-a-token").build();
        PlatformClient anonymous = STACK.connect().build()) {
      for (PlatformClient client : List.of(unknown, anonymous)) {
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
            () -> stub(client).listPipelines(LIST));
        assertEquals(Status.Code.UNAUTHENTICATED, refused.getStatus().getCode());
        assertEquals(Reasons.CALLER_UNAUTHENTICATED, Errors.reason(refused));
      }
    }
  }

  @Test
  void aPlaintextClientCannotTalkToTheTlsPort() throws Exception {
    try (PlatformClient plaintext =
        PlatformClient.connect(STACK.target()).bearerToken(STACK.token()).build()) {
      StatusRuntimeException failed = assertThrows(StatusRuntimeException.class,
          () -> plaintext.blockingStub().withDeadlineAfter(5, TimeUnit.SECONDS).listPipelines(LIST));
      assertNotEquals(Status.Code.OK, failed.getStatus().getCode());
      assertEquals(Status.Code.UNAVAILABLE, failed.getStatus().getCode(), failed.toString());
    }
  }

  @Test
  void aWatchOutlivesItsTwoSecondJwtsByReconnectingWithFreshOnes() throws Exception {
    AtomicInteger minted = new AtomicInteger();
    List<Status.Code> reconnects = new CopyOnWriteArrayList<>();
    PipelineRun last;
    try (PlatformClient client = STACK.connect()
        .tokenSupplier(() -> { // each token lives 2 s; the run takes about 5.5 s
          minted.incrementAndGet();
          return STACK.jwt("jwt-client", Duration.ofSeconds(2));
        })
        .policy(new ReconnectPolicy(Duration.ofMillis(50), Duration.ofSeconds(1), 0.2, 10))
        .build()) {
      last = stub(client).executePipeline(HELLO.toBuilder()
          .putParameters("duration_seconds", "4").build()).getRun();
      try (RunWatch watch = client.watchRun("", last.getRunId(), Duration.ofSeconds(60),
          (attempt, delay, cause) -> reconnects.add(Status.fromThrowable(cause).getCode()))) {
        while (watch.hasNext()) {
          last = watch.next().run();
        }
      }
    }
    assertEquals(RunStatus.RUN_STATUS_SUCCEEDED, last.getStatus());
    assertTrue(reconnects.contains(Status.Code.UNAUTHENTICATED),
        "the server should have cut a stream at its JWT's exp: " + reconnects);
    assertTrue(minted.get() >= 3, "the token supplier was called " + minted.get() + " times");
  }

  @Test
  void mutualTlsAloneNamesTheCallerAndNoCertificateCannotConnect() throws Exception {
    try (PlatformClient certified = MTLS.connect()
        .clientCertificate(MTLS.clientCertificatePem(), MTLS.clientKeyPem())
        .build()) {
      assertFalse(stub(certified).executePipeline(HELLO).getRun().getRunId().isEmpty());
    }
    assertTrue(awaitLog(MTLS, "\"caller\": \"cert-client\""), "no RPC of cert-client logged");

    try (PlatformClient uncertified = MTLS.connect().build()) {
      StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
          () -> uncertified.blockingStub().withDeadlineAfter(5, TimeUnit.SECONDS).listPipelines(LIST));
      assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), refused.toString());
    }
  }

  /** Last: every token and JWT the tests above sent, grepped for in the secured server's log. */
  @Test
  @Order(Integer.MAX_VALUE)
  void theServerLogHoldsNoTokenOrJwtButNamesTheCallers() throws Exception {
    for (String caller : List.of("client", "reader", "jwt-client")) {
      assertTrue(awaitLog(STACK, "\"caller\": \"" + caller + "\""), "no RPC of " + caller + " logged");
    }
    STACK.assertLogHoldsNoSecrets(); // and again, over the whole log, once the server has stopped
  }

  /** Whether the stack's log holds {@code text} within 5 s (a line is written as its RPC ends). */
  private static boolean awaitLog(LiveStack stack, String text) throws Exception {
    for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5); System.nanoTime() < end; ) {
      if (stack.logText().contains(text)) {
        return true;
      }
      Thread.sleep(100);
    }
    return false;
  }
}
