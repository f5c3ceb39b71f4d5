import type { MessageInitShape } from "@bufbuild/protobuf";
import type { PlatformClient } from "./client.js";
import type { LogEvent, StreamPipelineRunLogsRequestSchema } from "./gen/polysync/platform/v1/platform_service_pb.js";

/** Options of streamLogs. */
export interface StreamLogsOptions {
  /** Cancels the stream (the iteration then throws a ConnectError with Code.Canceled). */
  signal?: AbortSignal;
  /** Request headers. */
  headers?: Record<string, string>;
}

/**
 * The log events of a run (StreamPipelineRunLogs), oldest first, one at a time. With
 * `follow: true` it ends once the run is terminal and its log drained; without, after the
 * events written so far. A log stream that does not exist yet is waited for by the server. It
 * does not reconnect (a new stream would repeat lines). Breaking out of the loop cancels it.
 */
export async function* streamLogs(
  client: Pick<PlatformClient, "streamPipelineRunLogs">,
  request: MessageInitShape<typeof StreamPipelineRunLogsRequestSchema>,
  options: StreamLogsOptions = {},
): AsyncGenerator<LogEvent, void, undefined> {
  const { signal, headers } = options;
  for await (const batch of client.streamPipelineRunLogs(request, { ...(signal ? { signal } : {}), ...(headers ? { headers } : {}) })) {
    yield* batch.events;
  }
}
