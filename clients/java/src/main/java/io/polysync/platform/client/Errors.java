package io.polysync.platform.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.Help;
import com.google.rpc.Status;
import io.grpc.protobuf.StatusProto;
import java.util.Optional;

/**
 * Reads the rich error details (google.rpc.ErrorInfo, BadRequest, Help) that the Polysync platform
 * service attaches to every error status.
 *
 * <pre>{@code
 * try {
 *   stub.getPipelineRun(request);
 * } catch (StatusRuntimeException e) {
 *   if (Errors.reason(e).equals("RUN_NOT_FOUND")) { ... }
 * }
 * }</pre>
 */
public final class Errors {
  /** The {@code ErrorInfo.domain} of every error the platform service raises. */
  public static final String DOMAIN = "polysync.platform";

  private Errors() {}

  /**
   * The {@code ErrorInfo.reason} of a failed call, such as {@code "RUN_NOT_FOUND"} or {@code
   * "MISSING_PARAMETERS"}; empty when the error carries no ErrorInfo (e.g. a transport failure).
   */
  public static String reason(Throwable error) {
    return errorInfo(error).map(ErrorInfo::getReason).orElse("");
  }

  /** The google.rpc.ErrorInfo of a failed call, if it has one. */
  public static Optional<ErrorInfo> errorInfo(Throwable error) {
    return detail(error, ErrorInfo.class);
  }

  /** The google.rpc.BadRequest (one violation per bad field) of a failed call, if it has one. */
  public static Optional<BadRequest> badRequest(Throwable error) {
    return detail(error, BadRequest.class);
  }

  /** The google.rpc.Help (troubleshooting links) of a failed call, if it has one. */
  public static Optional<Help> help(Throwable error) {
    return detail(error, Help.class);
  }

  /** The first detail of the given type in the google.rpc.Status of a failed call. */
  public static <T extends Message> Optional<T> detail(Throwable error, Class<T> type) {
    Status status = StatusProto.fromThrowable(error);
    if (status == null) {
      return Optional.empty();
    }
    for (Any detail : status.getDetailsList()) {
      if (detail.is(type)) {
        try {
          return Optional.of(detail.unpack(type));
        } catch (InvalidProtocolBufferException e) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }
}
