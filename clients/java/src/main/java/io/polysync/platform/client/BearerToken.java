package io.polysync.platform.client;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * {@code authorization: Bearer <token>} on every call, as {@link CallCredentials}. A supplier is
 * asked before each call (on the application executor, so it may block to refresh a token).
 */
public final class BearerToken extends CallCredentials {
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Supplier<String> tokens;

  private BearerToken(Supplier<String> tokens) {
    this.tokens = tokens;
  }

  /** A fixed token. */
  public static BearerToken of(String token) {
    return new BearerToken(() -> token);
  }

  /** A token asked of {@code tokens} before each call, e.g. to refresh an expiring one. */
  public static BearerToken from(Supplier<String> tokens) {
    return new BearerToken(tokens);
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
    executor.execute(() -> {
      try {
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, "Bearer " + tokens.get());
        applier.apply(headers);
      } catch (RuntimeException e) {
        applier.fail(Status.UNAUTHENTICATED.withDescription("no bearer token: " + e).withCause(e));
      }
    });
  }
}
