package io.polysync.platform.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsServerCredentials;
import io.grpc.stub.StreamObserver;
import io.grpc.testing.TlsTesting;
import io.polysync.platform.v1.ListPipelinesRequest;
import io.polysync.platform.v1.ListPipelinesResponse;
import io.polysync.platform.v1.Pipeline;
import io.polysync.platform.v1.PlatformServiceGrpc;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * PlatformClient.Builder over real TLS (the grpc-netty-shaded transport on 127.0.0.1): a custom
 * CA, a client certificate the server requires, and a bearer token from a supplier.
 */
class TlsTest {
  private static byte[] pem(String name) throws Exception {
    try (InputStream in = TlsTesting.loadCert(name)) {
      return in.readAllBytes();
    }
  }

  @Test
  void mutualTlsWithACustomCaAndAToken() throws Exception {
    mutualTlsWithKey(pem("client.key"));
  }

  /** The same key as PKCS#1 ("BEGIN RSA PRIVATE KEY", cert-manager's default): rewrapped, it works. */
  @Test
  void mutualTlsWithAPkcs1RsaKey() throws Exception {
    mutualTlsWithKey(pkcs1(pem("client.key")));
  }

  @Test
  void anEncryptedKeyIsRefusedWithAMessageSayingSo() {
    byte[] encrypted = ("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n"
        + "AAAA\n-----END RSA PRIVATE KEY-----\n").getBytes(StandardCharsets.US_ASCII);
    IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
        () -> PlatformClient.connect("127.0.0.1:1").clientCertificate(pem("client.pem"), encrypted));
    assertTrue(refused.getMessage().contains("encrypted"), refused.getMessage());
  }

  /** A PKCS#8 RSA key's inner RSAPrivateKey (its OCTET STRING), as PKCS#1 PEM. */
  private static byte[] pkcs1(byte[] pkcs8Pem) {
    byte[] der = PrivateKeys.decode(pkcs8Pem, "PRIVATE KEY");
    int at = PrivateKeys.header(der, 0)[0]; // SEQUENCE { version, AlgorithmIdentifier, OCTET STRING }
    for (int skip = 0; skip < 2; skip++) {
      int[] element = PrivateKeys.header(der, at);
      at = element[0] + element[1];
    }
    int[] key = PrivateKeys.header(der, at);
    byte[] inner = java.util.Arrays.copyOfRange(der, key[0], key[0] + key[1]);
    return ("-----BEGIN RSA PRIVATE KEY-----\n" + Base64.getMimeEncoder().encodeToString(inner)
        + "\n-----END RSA PRIVATE KEY-----\n").getBytes(StandardCharsets.US_ASCII);
  }

  private void mutualTlsWithKey(byte[] clientKeyPem) throws Exception {
    List<String> authorizations = new ArrayList<>();
    ServerInterceptor record = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        authorizations.add(headers.get(BearerToken.AUTHORIZATION));
        return Contexts.interceptCall(io.grpc.Context.current(), call, headers, next);
      }
    };
    PlatformServiceGrpc.PlatformServiceImplBase service = new PlatformServiceGrpc.PlatformServiceImplBase() {
      @Override
      public void listPipelines(ListPipelinesRequest request, StreamObserver<ListPipelinesResponse> out) {
        out.onNext(ListPipelinesResponse.newBuilder().addPipelines(Pipeline.newBuilder().setName("greet")).build());
        out.onCompleted();
      }
    };
    TlsServerCredentials credentials = (TlsServerCredentials) TlsServerCredentials.newBuilder()
        .keyManager(TlsTesting.loadCert("server1.pem"), TlsTesting.loadCert("server1.key"))
        .trustManager(TlsTesting.loadCert("ca.pem"))
        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
        .build();
    Server server = Grpc.newServerBuilderForPort(0, credentials)
        .addService(ServerInterceptors.intercept(service, record)).build().start();
    String target = "127.0.0.1:" + server.getPort();
    try {
      try (PlatformClient client = PlatformClient.connect(target)
          .trustCertificates(pem("ca.pem"))
          .clientCertificate(pem("client.pem"), clientKeyPem)
          .tokenSupplier(() -> "from-supplier")
          .overrideAuthority("foo.test.google.fr") // the name in server1.pem
          .build()) {
        List<String> names = new ArrayList<>();
        client.listPipelines(ListPipelinesRequest.getDefaultInstance(), Duration.ofSeconds(10))
            .forEach(p -> names.add(p.getName()));
        assertEquals(List.of("greet"), names);
      }
      try (PlatformClient noCertificate = PlatformClient.connect(target)
          .trustCertificates(pem("ca.pem")).overrideAuthority("foo.test.google.fr").build()) {
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
            () -> noCertificate.blockingStub().withDeadlineAfter(10, TimeUnit.SECONDS)
                .listPipelines(ListPipelinesRequest.getDefaultInstance()));
        assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
      }
      assertEquals(List.of("Bearer from-supplier"), authorizations);
    } finally {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
