package io.polysync.platform.client;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.Help;
import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the rich error details (google.rpc.ErrorInfo, BadRequest, Help, RetryInfo) that the
 * Polysync platform service attaches to every error status. Compare reasons with {@link Reasons}.
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
  public static final String DOMAIN = Reasons.DOMAIN;

  private static final Pattern PARAMETER_FIELD = Pattern.compile("^parameters\\[(.+)]$");

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

  /** Each bad field of a refused call ({@code field}, {@code description}); empty when none. */
  public static List<BadRequest.FieldViolation> fieldViolations(Throwable error) {
    return badRequest(error).map(BadRequest::getFieldViolationsList).orElse(List.of());
  }

  /**
   * The pipeline parameters a refused ExecutePipeline lacked (reason {@link
   * Reasons#MISSING_PARAMETERS}), e.g. {@code ["name"]} for the violation of field {@code
   * parameters[name]}; empty when none.
   */
  public static List<String> missingParameters(Throwable error) {
    List<String> names = new ArrayList<>();
    for (BadRequest.FieldViolation violation : fieldViolations(error)) {
      Matcher match = PARAMETER_FIELD.matcher(violation.getField());
      if (match.matches()) {
        names.add(match.group(1));
      }
    }
    return names;
  }

  /** The troubleshooting hints ({@code description}, {@code url}) of a failed call; empty when none. */
  public static List<Help.Link> helpLinks(Throwable error) {
    return help(error).map(Help::getLinksList).orElse(List.of());
  }

  /** The google.rpc.RetryInfo of a failed call (sent with AWS_THROTTLED), if it has one. */
  public static Optional<RetryInfo> retryInfo(Throwable error) {
    return detail(error, RetryInfo.class);
  }

  /** RetryInfo's retry delay, if the error carries one. */
  public static Optional<Duration> retryDelay(Throwable error) {
    return retryInfo(error).map(info -> Duration.ofSeconds(
        info.getRetryDelay().getSeconds(), info.getRetryDelay().getNanos()));
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
