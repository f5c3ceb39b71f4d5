package io.polysync.platform.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * The Polysync platform contract, implemented for AWS Batch. Every request names a configured
 * `platform`; empty means the server's default platform.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class PlatformServiceGrpc {

  private PlatformServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "polysync.platform.v1.PlatformService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<io.polysync.platform.v1.TestConnectionRequest,
      io.polysync.platform.v1.TestConnectionResponse> getTestConnectionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "TestConnection",
      requestType = io.polysync.platform.v1.TestConnectionRequest.class,
      responseType = io.polysync.platform.v1.TestConnectionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.polysync.platform.v1.TestConnectionRequest,
      io.polysync.platform.v1.TestConnectionResponse> getTestConnectionMethod() {
    io.grpc.MethodDescriptor<io.polysync.platform.v1.TestConnectionRequest, io.polysync.platform.v1.TestConnectionResponse> getTestConnectionMethod;
    if ((getTestConnectionMethod = PlatformServiceGrpc.getTestConnectionMethod) == null) {
      synchronized (PlatformServiceGrpc.class) {
        if ((getTestConnectionMethod = PlatformServiceGrpc.getTestConnectionMethod) == null) {
          PlatformServiceGrpc.getTestConnectionMethod = getTestConnectionMethod =
              io.grpc.MethodDescriptor.<io.polysync.platform.v1.TestConnectionRequest, io.polysync.platform.v1.TestConnectionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "TestConnection"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.TestConnectionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.TestConnectionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlatformServiceMethodDescriptorSupplier("TestConnection"))
              .build();
        }
      }
    }
    return getTestConnectionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.polysync.platform.v1.ListPipelinesRequest,
      io.polysync.platform.v1.ListPipelinesResponse> getListPipelinesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListPipelines",
      requestType = io.polysync.platform.v1.ListPipelinesRequest.class,
      responseType = io.polysync.platform.v1.ListPipelinesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.polysync.platform.v1.ListPipelinesRequest,
      io.polysync.platform.v1.ListPipelinesResponse> getListPipelinesMethod() {
    io.grpc.MethodDescriptor<io.polysync.platform.v1.ListPipelinesRequest, io.polysync.platform.v1.ListPipelinesResponse> getListPipelinesMethod;
    if ((getListPipelinesMethod = PlatformServiceGrpc.getListPipelinesMethod) == null) {
      synchronized (PlatformServiceGrpc.class) {
        if ((getListPipelinesMethod = PlatformServiceGrpc.getListPipelinesMethod) == null) {
          PlatformServiceGrpc.getListPipelinesMethod = getListPipelinesMethod =
              io.grpc.MethodDescriptor.<io.polysync.platform.v1.ListPipelinesRequest, io.polysync.platform.v1.ListPipelinesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListPipelines"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.ListPipelinesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.ListPipelinesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlatformServiceMethodDescriptorSupplier("ListPipelines"))
              .build();
        }
      }
    }
    return getListPipelinesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.polysync.platform.v1.GetPipelineRequest,
      io.polysync.platform.v1.GetPipelineResponse> getGetPipelineMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetPipeline",
      requestType = io.polysync.platform.v1.GetPipelineRequest.class,
      responseType = io.polysync.platform.v1.GetPipelineResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.polysync.platform.v1.GetPipelineRequest,
      io.polysync.platform.v1.GetPipelineResponse> getGetPipelineMethod() {
    io.grpc.MethodDescriptor<io.polysync.platform.v1.GetPipelineRequest, io.polysync.platform.v1.GetPipelineResponse> getGetPipelineMethod;
    if ((getGetPipelineMethod = PlatformServiceGrpc.getGetPipelineMethod) == null) {
      synchronized (PlatformServiceGrpc.class) {
        if ((getGetPipelineMethod = PlatformServiceGrpc.getGetPipelineMethod) == null) {
          PlatformServiceGrpc.getGetPipelineMethod = getGetPipelineMethod =
              io.grpc.MethodDescriptor.<io.polysync.platform.v1.GetPipelineRequest, io.polysync.platform.v1.GetPipelineResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetPipeline"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.GetPipelineRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.GetPipelineResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlatformServiceMethodDescriptorSupplier("GetPipeline"))
              .build();
        }
      }
    }
    return getGetPipelineMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.polysync.platform.v1.ExecutePipelineRequest,
      io.polysync.platform.v1.ExecutePipelineResponse> getExecutePipelineMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ExecutePipeline",
      requestType = io.polysync.platform.v1.ExecutePipelineRequest.class,
      responseType = io.polysync.platform.v1.ExecutePipelineResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.polysync.platform.v1.ExecutePipelineRequest,
      io.polysync.platform.v1.ExecutePipelineResponse> getExecutePipelineMethod() {
    io.grpc.MethodDescriptor<io.polysync.platform.v1.ExecutePipelineRequest, io.polysync.platform.v1.ExecutePipelineResponse> getExecutePipelineMethod;
    if ((getExecutePipelineMethod = PlatformServiceGrpc.getExecutePipelineMethod) == null) {
      synchronized (PlatformServiceGrpc.class) {
        if ((getExecutePipelineMethod = PlatformServiceGrpc.getExecutePipelineMethod) == null) {
          PlatformServiceGrpc.getExecutePipelineMethod = getExecutePipelineMethod =
              io.grpc.MethodDescriptor.<io.polysync.platform.v1.ExecutePipelineRequest, io.polysync.platform.v1.ExecutePipelineResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ExecutePipeline"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.ExecutePipelineRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.ExecutePipelineResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlatformServiceMethodDescriptorSupplier("ExecutePipeline"))
              .build();
        }
      }
    }
    return getExecutePipelineMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.polysync.platform.v1.GetPipelineRunRequest,
      io.polysync.platform.v1.GetPipelineRunResponse> getGetPipelineRunMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetPipelineRun",
      requestType = io.polysync.platform.v1.GetPipelineRunRequest.class,
      responseType = io.polysync.platform.v1.GetPipelineRunResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.polysync.platform.v1.GetPipelineRunRequest,
      io.polysync.platform.v1.GetPipelineRunResponse> getGetPipelineRunMethod() {
    io.grpc.MethodDescriptor<io.polysync.platform.v1.GetPipelineRunRequest, io.polysync.platform.v1.GetPipelineRunResponse> getGetPipelineRunMethod;
    if ((getGetPipelineRunMethod = PlatformServiceGrpc.getGetPipelineRunMethod) == null) {
      synchronized (PlatformServiceGrpc.class) {
        if ((getGetPipelineRunMethod = PlatformServiceGrpc.getGetPipelineRunMethod) == null) {
          PlatformServiceGrpc.getGetPipelineRunMethod = getGetPipelineRunMethod =
              io.grpc.MethodDescriptor.<io.polysync.platform.v1.GetPipelineRunRequest, io.polysync.platform.v1.GetPipelineRunResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetPipelineRun"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.GetPipelineRunRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.GetPipelineRunResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlatformServiceMethodDescriptorSupplier("GetPipelineRun"))
              .build();
        }
      }
    }
    return getGetPipelineRunMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.polysync.platform.v1.BatchGetPipelineRunsRequest,
      io.polysync.platform.v1.BatchGetPipelineRunsResponse> getBatchGetPipelineRunsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "BatchGetPipelineRuns",
      requestType = io.polysync.platform.v1.BatchGetPipelineRunsRequest.class,
      responseType = io.polysync.platform.v1.BatchGetPipelineRunsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.polysync.platform.v1.BatchGetPipelineRunsRequest,
      io.polysync.platform.v1.BatchGetPipelineRunsResponse> getBatchGetPipelineRunsMethod() {
    io.grpc.MethodDescriptor<io.polysync.platform.v1.BatchGetPipelineRunsRequest, io.polysync.platform.v1.BatchGetPipelineRunsResponse> getBatchGetPipelineRunsMethod;
    if ((getBatchGetPipelineRunsMethod = PlatformServiceGrpc.getBatchGetPipelineRunsMethod) == null) {
      synchronized (PlatformServiceGrpc.class) {
        if ((getBatchGetPipelineRunsMethod = PlatformServiceGrpc.getBatchGetPipelineRunsMethod) == null) {
          PlatformServiceGrpc.getBatchGetPipelineRunsMethod = getBatchGetPipelineRunsMethod =
              io.grpc.MethodDescriptor.<io.polysync.platform.v1.BatchGetPipelineRunsRequest, io.polysync.platform.v1.BatchGetPipelineRunsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "BatchGetPipelineRuns"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.BatchGetPipelineRunsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.BatchGetPipelineRunsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlatformServiceMethodDescriptorSupplier("BatchGetPipelineRuns"))
              .build();
        }
      }
    }
    return getBatchGetPipelineRunsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.polysync.platform.v1.ListPipelineRunsRequest,
      io.polysync.platform.v1.ListPipelineRunsResponse> getListPipelineRunsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListPipelineRuns",
      requestType = io.polysync.platform.v1.ListPipelineRunsRequest.class,
      responseType = io.polysync.platform.v1.ListPipelineRunsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.polysync.platform.v1.ListPipelineRunsRequest,
      io.polysync.platform.v1.ListPipelineRunsResponse> getListPipelineRunsMethod() {
    io.grpc.MethodDescriptor<io.polysync.platform.v1.ListPipelineRunsRequest, io.polysync.platform.v1.ListPipelineRunsResponse> getListPipelineRunsMethod;
    if ((getListPipelineRunsMethod = PlatformServiceGrpc.getListPipelineRunsMethod) == null) {
      synchronized (PlatformServiceGrpc.class) {
        if ((getListPipelineRunsMethod = PlatformServiceGrpc.getListPipelineRunsMethod) == null) {
          PlatformServiceGrpc.getListPipelineRunsMethod = getListPipelineRunsMethod =
              io.grpc.MethodDescriptor.<io.polysync.platform.v1.ListPipelineRunsRequest, io.polysync.platform.v1.ListPipelineRunsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListPipelineRuns"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.ListPipelineRunsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.ListPipelineRunsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlatformServiceMethodDescriptorSupplier("ListPipelineRuns"))
              .build();
        }
      }
    }
    return getListPipelineRunsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.polysync.platform.v1.CancelPipelineRunRequest,
      io.polysync.platform.v1.CancelPipelineRunResponse> getCancelPipelineRunMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CancelPipelineRun",
      requestType = io.polysync.platform.v1.CancelPipelineRunRequest.class,
      responseType = io.polysync.platform.v1.CancelPipelineRunResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<io.polysync.platform.v1.CancelPipelineRunRequest,
      io.polysync.platform.v1.CancelPipelineRunResponse> getCancelPipelineRunMethod() {
    io.grpc.MethodDescriptor<io.polysync.platform.v1.CancelPipelineRunRequest, io.polysync.platform.v1.CancelPipelineRunResponse> getCancelPipelineRunMethod;
    if ((getCancelPipelineRunMethod = PlatformServiceGrpc.getCancelPipelineRunMethod) == null) {
      synchronized (PlatformServiceGrpc.class) {
        if ((getCancelPipelineRunMethod = PlatformServiceGrpc.getCancelPipelineRunMethod) == null) {
          PlatformServiceGrpc.getCancelPipelineRunMethod = getCancelPipelineRunMethod =
              io.grpc.MethodDescriptor.<io.polysync.platform.v1.CancelPipelineRunRequest, io.polysync.platform.v1.CancelPipelineRunResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CancelPipelineRun"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.CancelPipelineRunRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.CancelPipelineRunResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlatformServiceMethodDescriptorSupplier("CancelPipelineRun"))
              .build();
        }
      }
    }
    return getCancelPipelineRunMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.polysync.platform.v1.WatchPipelineRunRequest,
      io.polysync.platform.v1.WatchPipelineRunResponse> getWatchPipelineRunMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchPipelineRun",
      requestType = io.polysync.platform.v1.WatchPipelineRunRequest.class,
      responseType = io.polysync.platform.v1.WatchPipelineRunResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<io.polysync.platform.v1.WatchPipelineRunRequest,
      io.polysync.platform.v1.WatchPipelineRunResponse> getWatchPipelineRunMethod() {
    io.grpc.MethodDescriptor<io.polysync.platform.v1.WatchPipelineRunRequest, io.polysync.platform.v1.WatchPipelineRunResponse> getWatchPipelineRunMethod;
    if ((getWatchPipelineRunMethod = PlatformServiceGrpc.getWatchPipelineRunMethod) == null) {
      synchronized (PlatformServiceGrpc.class) {
        if ((getWatchPipelineRunMethod = PlatformServiceGrpc.getWatchPipelineRunMethod) == null) {
          PlatformServiceGrpc.getWatchPipelineRunMethod = getWatchPipelineRunMethod =
              io.grpc.MethodDescriptor.<io.polysync.platform.v1.WatchPipelineRunRequest, io.polysync.platform.v1.WatchPipelineRunResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchPipelineRun"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.WatchPipelineRunRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.WatchPipelineRunResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlatformServiceMethodDescriptorSupplier("WatchPipelineRun"))
              .build();
        }
      }
    }
    return getWatchPipelineRunMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.polysync.platform.v1.WatchPipelineRunsRequest,
      io.polysync.platform.v1.WatchPipelineRunsResponse> getWatchPipelineRunsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchPipelineRuns",
      requestType = io.polysync.platform.v1.WatchPipelineRunsRequest.class,
      responseType = io.polysync.platform.v1.WatchPipelineRunsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<io.polysync.platform.v1.WatchPipelineRunsRequest,
      io.polysync.platform.v1.WatchPipelineRunsResponse> getWatchPipelineRunsMethod() {
    io.grpc.MethodDescriptor<io.polysync.platform.v1.WatchPipelineRunsRequest, io.polysync.platform.v1.WatchPipelineRunsResponse> getWatchPipelineRunsMethod;
    if ((getWatchPipelineRunsMethod = PlatformServiceGrpc.getWatchPipelineRunsMethod) == null) {
      synchronized (PlatformServiceGrpc.class) {
        if ((getWatchPipelineRunsMethod = PlatformServiceGrpc.getWatchPipelineRunsMethod) == null) {
          PlatformServiceGrpc.getWatchPipelineRunsMethod = getWatchPipelineRunsMethod =
              io.grpc.MethodDescriptor.<io.polysync.platform.v1.WatchPipelineRunsRequest, io.polysync.platform.v1.WatchPipelineRunsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchPipelineRuns"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.WatchPipelineRunsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.WatchPipelineRunsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlatformServiceMethodDescriptorSupplier("WatchPipelineRuns"))
              .build();
        }
      }
    }
    return getWatchPipelineRunsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.polysync.platform.v1.StreamPipelineRunLogsRequest,
      io.polysync.platform.v1.StreamPipelineRunLogsResponse> getStreamPipelineRunLogsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "StreamPipelineRunLogs",
      requestType = io.polysync.platform.v1.StreamPipelineRunLogsRequest.class,
      responseType = io.polysync.platform.v1.StreamPipelineRunLogsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<io.polysync.platform.v1.StreamPipelineRunLogsRequest,
      io.polysync.platform.v1.StreamPipelineRunLogsResponse> getStreamPipelineRunLogsMethod() {
    io.grpc.MethodDescriptor<io.polysync.platform.v1.StreamPipelineRunLogsRequest, io.polysync.platform.v1.StreamPipelineRunLogsResponse> getStreamPipelineRunLogsMethod;
    if ((getStreamPipelineRunLogsMethod = PlatformServiceGrpc.getStreamPipelineRunLogsMethod) == null) {
      synchronized (PlatformServiceGrpc.class) {
        if ((getStreamPipelineRunLogsMethod = PlatformServiceGrpc.getStreamPipelineRunLogsMethod) == null) {
          PlatformServiceGrpc.getStreamPipelineRunLogsMethod = getStreamPipelineRunLogsMethod =
              io.grpc.MethodDescriptor.<io.polysync.platform.v1.StreamPipelineRunLogsRequest, io.polysync.platform.v1.StreamPipelineRunLogsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "StreamPipelineRunLogs"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.StreamPipelineRunLogsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.StreamPipelineRunLogsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlatformServiceMethodDescriptorSupplier("StreamPipelineRunLogs"))
              .build();
        }
      }
    }
    return getStreamPipelineRunLogsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<io.polysync.platform.v1.WatchRunChangesRequest,
      io.polysync.platform.v1.WatchRunChangesResponse> getWatchRunChangesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchRunChanges",
      requestType = io.polysync.platform.v1.WatchRunChangesRequest.class,
      responseType = io.polysync.platform.v1.WatchRunChangesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<io.polysync.platform.v1.WatchRunChangesRequest,
      io.polysync.platform.v1.WatchRunChangesResponse> getWatchRunChangesMethod() {
    io.grpc.MethodDescriptor<io.polysync.platform.v1.WatchRunChangesRequest, io.polysync.platform.v1.WatchRunChangesResponse> getWatchRunChangesMethod;
    if ((getWatchRunChangesMethod = PlatformServiceGrpc.getWatchRunChangesMethod) == null) {
      synchronized (PlatformServiceGrpc.class) {
        if ((getWatchRunChangesMethod = PlatformServiceGrpc.getWatchRunChangesMethod) == null) {
          PlatformServiceGrpc.getWatchRunChangesMethod = getWatchRunChangesMethod =
              io.grpc.MethodDescriptor.<io.polysync.platform.v1.WatchRunChangesRequest, io.polysync.platform.v1.WatchRunChangesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchRunChanges"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.WatchRunChangesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  io.polysync.platform.v1.WatchRunChangesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PlatformServiceMethodDescriptorSupplier("WatchRunChanges"))
              .build();
        }
      }
    }
    return getWatchRunChangesMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static PlatformServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PlatformServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PlatformServiceStub>() {
        @java.lang.Override
        public PlatformServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PlatformServiceStub(channel, callOptions);
        }
      };
    return PlatformServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static PlatformServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PlatformServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PlatformServiceBlockingV2Stub>() {
        @java.lang.Override
        public PlatformServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PlatformServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return PlatformServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static PlatformServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PlatformServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PlatformServiceBlockingStub>() {
        @java.lang.Override
        public PlatformServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PlatformServiceBlockingStub(channel, callOptions);
        }
      };
    return PlatformServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static PlatformServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PlatformServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PlatformServiceFutureStub>() {
        @java.lang.Override
        public PlatformServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PlatformServiceFutureStub(channel, callOptions);
        }
      };
    return PlatformServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * The Polysync platform contract, implemented for AWS Batch. Every request names a configured
   * `platform`; empty means the server's default platform.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Checks that the platform's credentials work and its job queue exists. Failed checks are
     * reported in the response with `ok` false, never as an error.
     * </pre>
     */
    default void testConnection(io.polysync.platform.v1.TestConnectionRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.TestConnectionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getTestConnectionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the ACTIVE job definitions, each name once at its highest revision.
     * </pre>
     */
    default void listPipelines(io.polysync.platform.v1.ListPipelinesRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.ListPipelinesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListPipelinesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Gets one job definition by name (highest ACTIVE revision), `name:revision`, or ARN.
     * </pre>
     */
    default void getPipeline(io.polysync.platform.v1.GetPipelineRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.GetPipelineResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetPipelineMethod(), responseObserver);
    }

    /**
     * <pre>
     * Submits a job. With a `request_id`, repeated calls return the run of the first one.
     * </pre>
     */
    default void executePipeline(io.polysync.platform.v1.ExecutePipelineRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.ExecutePipelineResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getExecutePipelineMethod(), responseObserver);
    }

    /**
     * <pre>
     * Gets one run.
     * </pre>
     */
    default void getPipelineRun(io.polysync.platform.v1.GetPipelineRunRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.GetPipelineRunResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetPipelineRunMethod(), responseObserver);
    }

    /**
     * <pre>
     * Gets up to 1000 runs at once; unknown ids are listed, not an error.
     * </pre>
     */
    default void batchGetPipelineRuns(io.polysync.platform.v1.BatchGetPipelineRunsRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.BatchGetPipelineRunsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getBatchGetPipelineRunsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the runs of a job queue, newest first within each status.
     * </pre>
     */
    default void listPipelineRuns(io.polysync.platform.v1.ListPipelineRunsRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.ListPipelineRunsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListPipelineRunsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Cancels a queued or running run. Cancelling a finished run is not an error: it returns the
     * run as it is.
     * </pre>
     */
    default void cancelPipelineRun(io.polysync.platform.v1.CancelPipelineRunRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.CancelPipelineRunResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCancelPipelineRunMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams one run: first its current state, then one message per change, and heartbeats
     * while nothing changes. The stream ends with OK after the run's terminal state, with
     * NOT_FOUND if AWS Batch stops knowing the run, and with UNAVAILABLE when the server shuts
     * down (reconnect: the first message is the current state again).
     * </pre>
     */
    default void watchPipelineRun(io.polysync.platform.v1.WatchPipelineRunRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.WatchPipelineRunResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchPipelineRunMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams many runs: first the current state of each, then one message per change of any of
     * them, and heartbeats while nothing changes. The stream ends with OK once all of them are
     * terminal; NOT_FOUND and UNAVAILABLE as for WatchPipelineRun.
     * </pre>
     */
    default void watchPipelineRuns(io.polysync.platform.v1.WatchPipelineRunsRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.WatchPipelineRunsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchPipelineRunsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams the CloudWatch log events of a run. Without `follow` the stream ends after the
     * events written so far; with `follow` it ends once the run is terminal and its log drained.
     * </pre>
     */
    default void streamPipelineRunLogs(io.polysync.platform.v1.StreamPipelineRunLogsRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.StreamPipelineRunLogsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getStreamPipelineRunLogsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams every change of every run of the platform's job queues, resumable from a cursor:
     * optionally first a snapshot of the non-terminal runs, then the changes, batched, each
     * message carrying a cursor to resume after it. The first message comes at once (a heartbeat
     * when there is nothing else), and heartbeats follow while nothing changes. The stream does
     * not end by itself: it ends with FAILED_PRECONDITION CURSOR_EXPIRED for a cursor the server
     * no longer knows (start again with `snapshot`), and with UNAVAILABLE when the server shuts
     * down (resume from the last cursor received).
     * </pre>
     */
    default void watchRunChanges(io.polysync.platform.v1.WatchRunChangesRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.WatchRunChangesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchRunChangesMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service PlatformService.
   * <pre>
   * The Polysync platform contract, implemented for AWS Batch. Every request names a configured
   * `platform`; empty means the server's default platform.
   * </pre>
   */
  public static abstract class PlatformServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return PlatformServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service PlatformService.
   * <pre>
   * The Polysync platform contract, implemented for AWS Batch. Every request names a configured
   * `platform`; empty means the server's default platform.
   * </pre>
   */
  public static final class PlatformServiceStub
      extends io.grpc.stub.AbstractAsyncStub<PlatformServiceStub> {
    private PlatformServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PlatformServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PlatformServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Checks that the platform's credentials work and its job queue exists. Failed checks are
     * reported in the response with `ok` false, never as an error.
     * </pre>
     */
    public void testConnection(io.polysync.platform.v1.TestConnectionRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.TestConnectionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getTestConnectionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the ACTIVE job definitions, each name once at its highest revision.
     * </pre>
     */
    public void listPipelines(io.polysync.platform.v1.ListPipelinesRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.ListPipelinesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListPipelinesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Gets one job definition by name (highest ACTIVE revision), `name:revision`, or ARN.
     * </pre>
     */
    public void getPipeline(io.polysync.platform.v1.GetPipelineRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.GetPipelineResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetPipelineMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Submits a job. With a `request_id`, repeated calls return the run of the first one.
     * </pre>
     */
    public void executePipeline(io.polysync.platform.v1.ExecutePipelineRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.ExecutePipelineResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getExecutePipelineMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Gets one run.
     * </pre>
     */
    public void getPipelineRun(io.polysync.platform.v1.GetPipelineRunRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.GetPipelineRunResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetPipelineRunMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Gets up to 1000 runs at once; unknown ids are listed, not an error.
     * </pre>
     */
    public void batchGetPipelineRuns(io.polysync.platform.v1.BatchGetPipelineRunsRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.BatchGetPipelineRunsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getBatchGetPipelineRunsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the runs of a job queue, newest first within each status.
     * </pre>
     */
    public void listPipelineRuns(io.polysync.platform.v1.ListPipelineRunsRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.ListPipelineRunsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListPipelineRunsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Cancels a queued or running run. Cancelling a finished run is not an error: it returns the
     * run as it is.
     * </pre>
     */
    public void cancelPipelineRun(io.polysync.platform.v1.CancelPipelineRunRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.CancelPipelineRunResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCancelPipelineRunMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams one run: first its current state, then one message per change, and heartbeats
     * while nothing changes. The stream ends with OK after the run's terminal state, with
     * NOT_FOUND if AWS Batch stops knowing the run, and with UNAVAILABLE when the server shuts
     * down (reconnect: the first message is the current state again).
     * </pre>
     */
    public void watchPipelineRun(io.polysync.platform.v1.WatchPipelineRunRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.WatchPipelineRunResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchPipelineRunMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams many runs: first the current state of each, then one message per change of any of
     * them, and heartbeats while nothing changes. The stream ends with OK once all of them are
     * terminal; NOT_FOUND and UNAVAILABLE as for WatchPipelineRun.
     * </pre>
     */
    public void watchPipelineRuns(io.polysync.platform.v1.WatchPipelineRunsRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.WatchPipelineRunsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchPipelineRunsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams the CloudWatch log events of a run. Without `follow` the stream ends after the
     * events written so far; with `follow` it ends once the run is terminal and its log drained.
     * </pre>
     */
    public void streamPipelineRunLogs(io.polysync.platform.v1.StreamPipelineRunLogsRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.StreamPipelineRunLogsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getStreamPipelineRunLogsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams every change of every run of the platform's job queues, resumable from a cursor:
     * optionally first a snapshot of the non-terminal runs, then the changes, batched, each
     * message carrying a cursor to resume after it. The first message comes at once (a heartbeat
     * when there is nothing else), and heartbeats follow while nothing changes. The stream does
     * not end by itself: it ends with FAILED_PRECONDITION CURSOR_EXPIRED for a cursor the server
     * no longer knows (start again with `snapshot`), and with UNAVAILABLE when the server shuts
     * down (resume from the last cursor received).
     * </pre>
     */
    public void watchRunChanges(io.polysync.platform.v1.WatchRunChangesRequest request,
        io.grpc.stub.StreamObserver<io.polysync.platform.v1.WatchRunChangesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchRunChangesMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service PlatformService.
   * <pre>
   * The Polysync platform contract, implemented for AWS Batch. Every request names a configured
   * `platform`; empty means the server's default platform.
   * </pre>
   */
  public static final class PlatformServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<PlatformServiceBlockingV2Stub> {
    private PlatformServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PlatformServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PlatformServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Checks that the platform's credentials work and its job queue exists. Failed checks are
     * reported in the response with `ok` false, never as an error.
     * </pre>
     */
    public io.polysync.platform.v1.TestConnectionResponse testConnection(io.polysync.platform.v1.TestConnectionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getTestConnectionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the ACTIVE job definitions, each name once at its highest revision.
     * </pre>
     */
    public io.polysync.platform.v1.ListPipelinesResponse listPipelines(io.polysync.platform.v1.ListPipelinesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListPipelinesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets one job definition by name (highest ACTIVE revision), `name:revision`, or ARN.
     * </pre>
     */
    public io.polysync.platform.v1.GetPipelineResponse getPipeline(io.polysync.platform.v1.GetPipelineRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetPipelineMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Submits a job. With a `request_id`, repeated calls return the run of the first one.
     * </pre>
     */
    public io.polysync.platform.v1.ExecutePipelineResponse executePipeline(io.polysync.platform.v1.ExecutePipelineRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getExecutePipelineMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets one run.
     * </pre>
     */
    public io.polysync.platform.v1.GetPipelineRunResponse getPipelineRun(io.polysync.platform.v1.GetPipelineRunRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetPipelineRunMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets up to 1000 runs at once; unknown ids are listed, not an error.
     * </pre>
     */
    public io.polysync.platform.v1.BatchGetPipelineRunsResponse batchGetPipelineRuns(io.polysync.platform.v1.BatchGetPipelineRunsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getBatchGetPipelineRunsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the runs of a job queue, newest first within each status.
     * </pre>
     */
    public io.polysync.platform.v1.ListPipelineRunsResponse listPipelineRuns(io.polysync.platform.v1.ListPipelineRunsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListPipelineRunsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Cancels a queued or running run. Cancelling a finished run is not an error: it returns the
     * run as it is.
     * </pre>
     */
    public io.polysync.platform.v1.CancelPipelineRunResponse cancelPipelineRun(io.polysync.platform.v1.CancelPipelineRunRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCancelPipelineRunMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams one run: first its current state, then one message per change, and heartbeats
     * while nothing changes. The stream ends with OK after the run's terminal state, with
     * NOT_FOUND if AWS Batch stops knowing the run, and with UNAVAILABLE when the server shuts
     * down (reconnect: the first message is the current state again).
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, io.polysync.platform.v1.WatchPipelineRunResponse>
        watchPipelineRun(io.polysync.platform.v1.WatchPipelineRunRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getWatchPipelineRunMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams many runs: first the current state of each, then one message per change of any of
     * them, and heartbeats while nothing changes. The stream ends with OK once all of them are
     * terminal; NOT_FOUND and UNAVAILABLE as for WatchPipelineRun.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, io.polysync.platform.v1.WatchPipelineRunsResponse>
        watchPipelineRuns(io.polysync.platform.v1.WatchPipelineRunsRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getWatchPipelineRunsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams the CloudWatch log events of a run. Without `follow` the stream ends after the
     * events written so far; with `follow` it ends once the run is terminal and its log drained.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, io.polysync.platform.v1.StreamPipelineRunLogsResponse>
        streamPipelineRunLogs(io.polysync.platform.v1.StreamPipelineRunLogsRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getStreamPipelineRunLogsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams every change of every run of the platform's job queues, resumable from a cursor:
     * optionally first a snapshot of the non-terminal runs, then the changes, batched, each
     * message carrying a cursor to resume after it. The first message comes at once (a heartbeat
     * when there is nothing else), and heartbeats follow while nothing changes. The stream does
     * not end by itself: it ends with FAILED_PRECONDITION CURSOR_EXPIRED for a cursor the server
     * no longer knows (start again with `snapshot`), and with UNAVAILABLE when the server shuts
     * down (resume from the last cursor received).
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, io.polysync.platform.v1.WatchRunChangesResponse>
        watchRunChanges(io.polysync.platform.v1.WatchRunChangesRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getWatchRunChangesMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service PlatformService.
   * <pre>
   * The Polysync platform contract, implemented for AWS Batch. Every request names a configured
   * `platform`; empty means the server's default platform.
   * </pre>
   */
  public static final class PlatformServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<PlatformServiceBlockingStub> {
    private PlatformServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PlatformServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PlatformServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Checks that the platform's credentials work and its job queue exists. Failed checks are
     * reported in the response with `ok` false, never as an error.
     * </pre>
     */
    public io.polysync.platform.v1.TestConnectionResponse testConnection(io.polysync.platform.v1.TestConnectionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getTestConnectionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the ACTIVE job definitions, each name once at its highest revision.
     * </pre>
     */
    public io.polysync.platform.v1.ListPipelinesResponse listPipelines(io.polysync.platform.v1.ListPipelinesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListPipelinesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets one job definition by name (highest ACTIVE revision), `name:revision`, or ARN.
     * </pre>
     */
    public io.polysync.platform.v1.GetPipelineResponse getPipeline(io.polysync.platform.v1.GetPipelineRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetPipelineMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Submits a job. With a `request_id`, repeated calls return the run of the first one.
     * </pre>
     */
    public io.polysync.platform.v1.ExecutePipelineResponse executePipeline(io.polysync.platform.v1.ExecutePipelineRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getExecutePipelineMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets one run.
     * </pre>
     */
    public io.polysync.platform.v1.GetPipelineRunResponse getPipelineRun(io.polysync.platform.v1.GetPipelineRunRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetPipelineRunMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets up to 1000 runs at once; unknown ids are listed, not an error.
     * </pre>
     */
    public io.polysync.platform.v1.BatchGetPipelineRunsResponse batchGetPipelineRuns(io.polysync.platform.v1.BatchGetPipelineRunsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getBatchGetPipelineRunsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the runs of a job queue, newest first within each status.
     * </pre>
     */
    public io.polysync.platform.v1.ListPipelineRunsResponse listPipelineRuns(io.polysync.platform.v1.ListPipelineRunsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListPipelineRunsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Cancels a queued or running run. Cancelling a finished run is not an error: it returns the
     * run as it is.
     * </pre>
     */
    public io.polysync.platform.v1.CancelPipelineRunResponse cancelPipelineRun(io.polysync.platform.v1.CancelPipelineRunRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCancelPipelineRunMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams one run: first its current state, then one message per change, and heartbeats
     * while nothing changes. The stream ends with OK after the run's terminal state, with
     * NOT_FOUND if AWS Batch stops knowing the run, and with UNAVAILABLE when the server shuts
     * down (reconnect: the first message is the current state again).
     * </pre>
     */
    public java.util.Iterator<io.polysync.platform.v1.WatchPipelineRunResponse> watchPipelineRun(
        io.polysync.platform.v1.WatchPipelineRunRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchPipelineRunMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams many runs: first the current state of each, then one message per change of any of
     * them, and heartbeats while nothing changes. The stream ends with OK once all of them are
     * terminal; NOT_FOUND and UNAVAILABLE as for WatchPipelineRun.
     * </pre>
     */
    public java.util.Iterator<io.polysync.platform.v1.WatchPipelineRunsResponse> watchPipelineRuns(
        io.polysync.platform.v1.WatchPipelineRunsRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchPipelineRunsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams the CloudWatch log events of a run. Without `follow` the stream ends after the
     * events written so far; with `follow` it ends once the run is terminal and its log drained.
     * </pre>
     */
    public java.util.Iterator<io.polysync.platform.v1.StreamPipelineRunLogsResponse> streamPipelineRunLogs(
        io.polysync.platform.v1.StreamPipelineRunLogsRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getStreamPipelineRunLogsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams every change of every run of the platform's job queues, resumable from a cursor:
     * optionally first a snapshot of the non-terminal runs, then the changes, batched, each
     * message carrying a cursor to resume after it. The first message comes at once (a heartbeat
     * when there is nothing else), and heartbeats follow while nothing changes. The stream does
     * not end by itself: it ends with FAILED_PRECONDITION CURSOR_EXPIRED for a cursor the server
     * no longer knows (start again with `snapshot`), and with UNAVAILABLE when the server shuts
     * down (resume from the last cursor received).
     * </pre>
     */
    public java.util.Iterator<io.polysync.platform.v1.WatchRunChangesResponse> watchRunChanges(
        io.polysync.platform.v1.WatchRunChangesRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchRunChangesMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service PlatformService.
   * <pre>
   * The Polysync platform contract, implemented for AWS Batch. Every request names a configured
   * `platform`; empty means the server's default platform.
   * </pre>
   */
  public static final class PlatformServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<PlatformServiceFutureStub> {
    private PlatformServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PlatformServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PlatformServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Checks that the platform's credentials work and its job queue exists. Failed checks are
     * reported in the response with `ok` false, never as an error.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.polysync.platform.v1.TestConnectionResponse> testConnection(
        io.polysync.platform.v1.TestConnectionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getTestConnectionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the ACTIVE job definitions, each name once at its highest revision.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.polysync.platform.v1.ListPipelinesResponse> listPipelines(
        io.polysync.platform.v1.ListPipelinesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListPipelinesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Gets one job definition by name (highest ACTIVE revision), `name:revision`, or ARN.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.polysync.platform.v1.GetPipelineResponse> getPipeline(
        io.polysync.platform.v1.GetPipelineRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetPipelineMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Submits a job. With a `request_id`, repeated calls return the run of the first one.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.polysync.platform.v1.ExecutePipelineResponse> executePipeline(
        io.polysync.platform.v1.ExecutePipelineRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getExecutePipelineMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Gets one run.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.polysync.platform.v1.GetPipelineRunResponse> getPipelineRun(
        io.polysync.platform.v1.GetPipelineRunRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetPipelineRunMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Gets up to 1000 runs at once; unknown ids are listed, not an error.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.polysync.platform.v1.BatchGetPipelineRunsResponse> batchGetPipelineRuns(
        io.polysync.platform.v1.BatchGetPipelineRunsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getBatchGetPipelineRunsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the runs of a job queue, newest first within each status.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.polysync.platform.v1.ListPipelineRunsResponse> listPipelineRuns(
        io.polysync.platform.v1.ListPipelineRunsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListPipelineRunsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Cancels a queued or running run. Cancelling a finished run is not an error: it returns the
     * run as it is.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<io.polysync.platform.v1.CancelPipelineRunResponse> cancelPipelineRun(
        io.polysync.platform.v1.CancelPipelineRunRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCancelPipelineRunMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_TEST_CONNECTION = 0;
  private static final int METHODID_LIST_PIPELINES = 1;
  private static final int METHODID_GET_PIPELINE = 2;
  private static final int METHODID_EXECUTE_PIPELINE = 3;
  private static final int METHODID_GET_PIPELINE_RUN = 4;
  private static final int METHODID_BATCH_GET_PIPELINE_RUNS = 5;
  private static final int METHODID_LIST_PIPELINE_RUNS = 6;
  private static final int METHODID_CANCEL_PIPELINE_RUN = 7;
  private static final int METHODID_WATCH_PIPELINE_RUN = 8;
  private static final int METHODID_WATCH_PIPELINE_RUNS = 9;
  private static final int METHODID_STREAM_PIPELINE_RUN_LOGS = 10;
  private static final int METHODID_WATCH_RUN_CHANGES = 11;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AsyncService serviceImpl;
    private final int methodId;

    MethodHandlers(AsyncService serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_TEST_CONNECTION:
          serviceImpl.testConnection((io.polysync.platform.v1.TestConnectionRequest) request,
              (io.grpc.stub.StreamObserver<io.polysync.platform.v1.TestConnectionResponse>) responseObserver);
          break;
        case METHODID_LIST_PIPELINES:
          serviceImpl.listPipelines((io.polysync.platform.v1.ListPipelinesRequest) request,
              (io.grpc.stub.StreamObserver<io.polysync.platform.v1.ListPipelinesResponse>) responseObserver);
          break;
        case METHODID_GET_PIPELINE:
          serviceImpl.getPipeline((io.polysync.platform.v1.GetPipelineRequest) request,
              (io.grpc.stub.StreamObserver<io.polysync.platform.v1.GetPipelineResponse>) responseObserver);
          break;
        case METHODID_EXECUTE_PIPELINE:
          serviceImpl.executePipeline((io.polysync.platform.v1.ExecutePipelineRequest) request,
              (io.grpc.stub.StreamObserver<io.polysync.platform.v1.ExecutePipelineResponse>) responseObserver);
          break;
        case METHODID_GET_PIPELINE_RUN:
          serviceImpl.getPipelineRun((io.polysync.platform.v1.GetPipelineRunRequest) request,
              (io.grpc.stub.StreamObserver<io.polysync.platform.v1.GetPipelineRunResponse>) responseObserver);
          break;
        case METHODID_BATCH_GET_PIPELINE_RUNS:
          serviceImpl.batchGetPipelineRuns((io.polysync.platform.v1.BatchGetPipelineRunsRequest) request,
              (io.grpc.stub.StreamObserver<io.polysync.platform.v1.BatchGetPipelineRunsResponse>) responseObserver);
          break;
        case METHODID_LIST_PIPELINE_RUNS:
          serviceImpl.listPipelineRuns((io.polysync.platform.v1.ListPipelineRunsRequest) request,
              (io.grpc.stub.StreamObserver<io.polysync.platform.v1.ListPipelineRunsResponse>) responseObserver);
          break;
        case METHODID_CANCEL_PIPELINE_RUN:
          serviceImpl.cancelPipelineRun((io.polysync.platform.v1.CancelPipelineRunRequest) request,
              (io.grpc.stub.StreamObserver<io.polysync.platform.v1.CancelPipelineRunResponse>) responseObserver);
          break;
        case METHODID_WATCH_PIPELINE_RUN:
          serviceImpl.watchPipelineRun((io.polysync.platform.v1.WatchPipelineRunRequest) request,
              (io.grpc.stub.StreamObserver<io.polysync.platform.v1.WatchPipelineRunResponse>) responseObserver);
          break;
        case METHODID_WATCH_PIPELINE_RUNS:
          serviceImpl.watchPipelineRuns((io.polysync.platform.v1.WatchPipelineRunsRequest) request,
              (io.grpc.stub.StreamObserver<io.polysync.platform.v1.WatchPipelineRunsResponse>) responseObserver);
          break;
        case METHODID_STREAM_PIPELINE_RUN_LOGS:
          serviceImpl.streamPipelineRunLogs((io.polysync.platform.v1.StreamPipelineRunLogsRequest) request,
              (io.grpc.stub.StreamObserver<io.polysync.platform.v1.StreamPipelineRunLogsResponse>) responseObserver);
          break;
        case METHODID_WATCH_RUN_CHANGES:
          serviceImpl.watchRunChanges((io.polysync.platform.v1.WatchRunChangesRequest) request,
              (io.grpc.stub.StreamObserver<io.polysync.platform.v1.WatchRunChangesResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getTestConnectionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.polysync.platform.v1.TestConnectionRequest,
              io.polysync.platform.v1.TestConnectionResponse>(
                service, METHODID_TEST_CONNECTION)))
        .addMethod(
          getListPipelinesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.polysync.platform.v1.ListPipelinesRequest,
              io.polysync.platform.v1.ListPipelinesResponse>(
                service, METHODID_LIST_PIPELINES)))
        .addMethod(
          getGetPipelineMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.polysync.platform.v1.GetPipelineRequest,
              io.polysync.platform.v1.GetPipelineResponse>(
                service, METHODID_GET_PIPELINE)))
        .addMethod(
          getExecutePipelineMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.polysync.platform.v1.ExecutePipelineRequest,
              io.polysync.platform.v1.ExecutePipelineResponse>(
                service, METHODID_EXECUTE_PIPELINE)))
        .addMethod(
          getGetPipelineRunMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.polysync.platform.v1.GetPipelineRunRequest,
              io.polysync.platform.v1.GetPipelineRunResponse>(
                service, METHODID_GET_PIPELINE_RUN)))
        .addMethod(
          getBatchGetPipelineRunsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.polysync.platform.v1.BatchGetPipelineRunsRequest,
              io.polysync.platform.v1.BatchGetPipelineRunsResponse>(
                service, METHODID_BATCH_GET_PIPELINE_RUNS)))
        .addMethod(
          getListPipelineRunsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.polysync.platform.v1.ListPipelineRunsRequest,
              io.polysync.platform.v1.ListPipelineRunsResponse>(
                service, METHODID_LIST_PIPELINE_RUNS)))
        .addMethod(
          getCancelPipelineRunMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              io.polysync.platform.v1.CancelPipelineRunRequest,
              io.polysync.platform.v1.CancelPipelineRunResponse>(
                service, METHODID_CANCEL_PIPELINE_RUN)))
        .addMethod(
          getWatchPipelineRunMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              io.polysync.platform.v1.WatchPipelineRunRequest,
              io.polysync.platform.v1.WatchPipelineRunResponse>(
                service, METHODID_WATCH_PIPELINE_RUN)))
        .addMethod(
          getWatchPipelineRunsMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              io.polysync.platform.v1.WatchPipelineRunsRequest,
              io.polysync.platform.v1.WatchPipelineRunsResponse>(
                service, METHODID_WATCH_PIPELINE_RUNS)))
        .addMethod(
          getStreamPipelineRunLogsMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              io.polysync.platform.v1.StreamPipelineRunLogsRequest,
              io.polysync.platform.v1.StreamPipelineRunLogsResponse>(
                service, METHODID_STREAM_PIPELINE_RUN_LOGS)))
        .addMethod(
          getWatchRunChangesMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              io.polysync.platform.v1.WatchRunChangesRequest,
              io.polysync.platform.v1.WatchRunChangesResponse>(
                service, METHODID_WATCH_RUN_CHANGES)))
        .build();
  }

  private static abstract class PlatformServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    PlatformServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return io.polysync.platform.v1.PlatformServiceProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("PlatformService");
    }
  }

  private static final class PlatformServiceFileDescriptorSupplier
      extends PlatformServiceBaseDescriptorSupplier {
    PlatformServiceFileDescriptorSupplier() {}
  }

  private static final class PlatformServiceMethodDescriptorSupplier
      extends PlatformServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    PlatformServiceMethodDescriptorSupplier(java.lang.String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (PlatformServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new PlatformServiceFileDescriptorSupplier())
              .addMethod(getTestConnectionMethod())
              .addMethod(getListPipelinesMethod())
              .addMethod(getGetPipelineMethod())
              .addMethod(getExecutePipelineMethod())
              .addMethod(getGetPipelineRunMethod())
              .addMethod(getBatchGetPipelineRunsMethod())
              .addMethod(getListPipelineRunsMethod())
              .addMethod(getCancelPipelineRunMethod())
              .addMethod(getWatchPipelineRunMethod())
              .addMethod(getWatchPipelineRunsMethod())
              .addMethod(getStreamPipelineRunLogsMethod())
              .addMethod(getWatchRunChangesMethod())
              .build();
        }
      }
    }
    return result;
  }
}
