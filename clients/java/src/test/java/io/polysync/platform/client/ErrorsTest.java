package io.polysync.platform.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import org.junit.jupiter.api.Test;

/** Errors without a server: details packed the way the server packs them. */
class ErrorsTest {
  @Test
  void readsErrorInfoAndBadRequest() {
    com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
        .setCode(Code.INVALID_ARGUMENT_VALUE)
        .setMessage("missing parameters: name")
        .addDetails(Any.pack(BadRequest.newBuilder()
            .addFieldViolations(BadRequest.FieldViolation.newBuilder()
                .setField("parameters[name]").setDescription("required"))
            .build()))
        .addDetails(Any.pack(ErrorInfo.newBuilder()
            .setReason("MISSING_PARAMETERS").setDomain(Errors.DOMAIN).build()))
        .build();
    Throwable error = StatusProto.toStatusRuntimeException(status);

    assertEquals("MISSING_PARAMETERS", Errors.reason(error));
    assertEquals("parameters[name]",
        Errors.badRequest(error).orElseThrow().getFieldViolations(0).getField());
    assertTrue(Errors.help(error).isEmpty());
  }

  @Test
  void noDetailsMeansEmptyReason() {
    assertEquals("", Errors.reason(Status.UNAVAILABLE.asRuntimeException()));
    assertEquals("", Errors.reason(new IllegalStateException("not a gRPC error")));
  }
}
