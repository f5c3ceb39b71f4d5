import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { randomUUID } from "node:crypto";
import type { PlatformClient } from "./client.js";
import type { PipelineRun } from "./gen/polysync/platform/v1/pipeline_run_pb.js";
import type {
  ExecutePipelineRequestSchema,
  ExecutePipelineResponse,
} from "./gen/polysync/platform/v1/platform_service_pb.js";
import { fromTransport, Retrier, throwIfAborted } from "./policy.js";
import { watchRun, type WatchOptions } from "./watch.js";

/** The default bound of each ExecutePipeline attempt of execute, in ms. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 30_000;

/** Options of execute. */
export interface ExecuteOptions extends WatchOptions {
  /** Bounds each ExecutePipeline attempt, in ms (default 30 000); an attempt that runs out is retried. */
  attemptTimeoutMs?: number;
  /** Called with the ExecutePipeline response before the wait: the run id, and whether it was deduplicated. */
  onSubmitted?: (response: ExecutePipelineResponse) => void;
}

/**
 * Submits a run and waits for it: ExecutePipeline, then watchRun until the run is terminal,
 * which it returns (its `status` says how it ended; a FAILED run is not an exception).
 *
 * Without a `requestId` it generates one (a UUID), so every retry is idempotent: it retries
 * ExecutePipeline on UNAVAILABLE and DEADLINE_EXCEEDED (an attempt running out of
 * `attemptTimeoutMs`) with the same request_id, after the policy's backoff and within its
 * budget, and the server returns the first submit's run instead of submitting again. Other
 * errors (e.g. INVALID_ARGUMENT with reason MISSING_PARAMETERS) are thrown at once.
 */
export async function execute(
  client: Pick<PlatformClient, "executePipeline" | "watchPipelineRun">,
  request: MessageInitShape<typeof ExecutePipelineRequestSchema>,
  options: ExecuteOptions = {},
): Promise<PipelineRun> {
  const { signal, headers, attemptTimeoutMs = DEFAULT_ATTEMPT_TIMEOUT_MS, onSubmitted } = options;
  const submit = { ...request, requestId: request.requestId || randomUUID() };
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  const retrier = new Retrier(options, deadline);
  let response: ExecutePipelineResponse;
  for (;;) {
    throwIfAborted(signal);
    try {
      response = await client.executePipeline(submit, {
        ...(signal ? { signal } : {}),
        ...(headers ? { headers } : {}),
        ...(attemptTimeoutMs > 0 ? { timeoutMs: Math.min(attemptTimeoutMs, deadline === undefined ? Infinity : Math.max(1, deadline - Date.now())) } : {}),
      });
      break;
    } catch (err) {
      throwIfAborted(signal);
      const error = fromTransport(err);
      if (error.code !== Code.Unavailable && error.code !== Code.DeadlineExceeded) throw error;
      await retrier.wait(error);
    }
  }
  onSubmitted?.(response);
  let final = response.run;
  if (final === undefined) throw new ConnectError("ExecutePipeline returned no run", Code.Internal);
  if (final.terminal) return final;
  const left = options.timeoutMs === undefined ? {} : { timeoutMs: Math.max(1, deadline! - Date.now()) };
  for await (const event of watchRun(client, final.runId, { ...options, ...left, platform: submit.platform ?? "" })) {
    final = event.run;
  }
  return final;
}
