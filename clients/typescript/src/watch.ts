import { equals, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type CallOptions } from "@connectrpc/connect";
import { PipelineRunSchema, type PipelineRun } from "./gen/polysync/platform/v1/pipeline_run_pb.js";
import { WatchPipelineRunRequestSchema } from "./gen/polysync/platform/v1/platform_service_pb.js";
import type { PlatformClient } from "./client.js";

/** Why and when watchRun opens a new stream; passed to `onReconnect`. */
export interface ReconnectEvent {
  /** 1 for the first reconnection after a failure, 2 for the next one without a message between… */
  readonly attempt: number;
  /** How long watchRun waits before opening the new stream. */
  readonly delayMs: number;
  /** The error that ended the previous stream. */
  readonly error: ConnectError;
  /** The last state delivered, if any. */
  readonly lastRun: PipelineRun | undefined;
}

/** Options of watchRun. Backoff defaults follow gRPC's connection-backoff recommendation. */
export interface WatchRunOptions {
  /** Stops the watch: the iteration then throws a ConnectError with Code.Canceled. */
  signal?: AbortSignal;
  /** Reconnections allowed in a row without receiving a message (default 10); then the last error is thrown. */
  maxRetries?: number;
  /** The delay before the first reconnection, in ms (default 250). */
  initialBackoffMs?: number;
  /** The longest delay between reconnections, in ms (default 10 000). */
  maxBackoffMs?: number;
  /** The growth factor of the delay per consecutive failure (default 1.6). */
  backoffMultiplier?: number;
  /** The random spread of each delay, as a fraction: 0.2 means ±20 % (default 0.2). */
  jitter?: number;
  /**
   * Reconnect when the stream is silent this long, in ms (default 0: never). Set it above the
   * server's heartbeat interval (30 s by default) to detect streams that died without an error.
   */
  idleTimeoutMs?: number;
  /** Status codes that make watchRun reconnect (default: Unavailable only). Others are thrown. */
  retryableCodes?: readonly Code[];
  /** Called before each reconnection. */
  onReconnect?: (event: ReconnectEvent) => void;
  /** Request headers sent with every stream (e.g. authorization). */
  headers?: CallOptions["headers"];
}

/**
 * Watches one run through WatchPipelineRun and survives server restarts: an async iterable of
 * the run's states that ends after the first state with `terminal` true.
 *
 * When a stream fails with a retryable code (UNAVAILABLE: the server is shutting down or
 * unreachable) or ends before the run is terminal, watchRun waits with exponential backoff and
 * jitter and opens a new stream. The server sends the run's current state first on every
 * stream, so nothing is missed; a state identical to the last one delivered (a resent state or a
 * heartbeat) is skipped. Other errors, and running out of retries, end the iteration with the
 * ConnectError. Breaking out of the loop cancels the stream.
 */
export async function* watchRun(
  client: Pick<PlatformClient, "watchPipelineRun">,
  request: MessageInitShape<typeof WatchPipelineRunRequestSchema>,
  options: WatchRunOptions = {},
): AsyncGenerator<PipelineRun, void, undefined> {
  const {
    signal,
    maxRetries = 10,
    initialBackoffMs = 250,
    maxBackoffMs = 10_000,
    backoffMultiplier = 1.6,
    jitter = 0.2,
    idleTimeoutMs = 0,
    retryableCodes = [Code.Unavailable],
    onReconnect,
    headers,
  } = options;
  let last: PipelineRun | undefined;
  let failures = 0;
  for (;;) {
    throwIfAborted(signal);
    const stream = new AbortController();
    const cancel = () => stream.abort(signal?.reason);
    signal?.addEventListener("abort", cancel, { once: true });
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    let idleExpired = false;
    const armIdleTimer = () => {
      if (idleTimeoutMs <= 0) return;
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        idleExpired = true;
        stream.abort();
      }, idleTimeoutMs);
    };
    let error: ConnectError;
    try {
      armIdleTimer();
      for await (const response of client.watchPipelineRun(request, { signal: stream.signal, headers })) {
        armIdleTimer();
        failures = 0;
        const run = response.run;
        if (run === undefined || (last !== undefined && equals(PipelineRunSchema, last, run))) continue;
        last = run;
        yield run;
        if (run.terminal) return;
      }
      error = new ConnectError("the watch stream ended before the run was terminal", Code.Unavailable);
    } catch (err) {
      throwIfAborted(signal);
      if (idleExpired) {
        error = new ConnectError(`no message on the watch stream for ${idleTimeoutMs} ms`, Code.DeadlineExceeded);
      } else {
        error = ConnectError.from(err);
        if (!retryableCodes.includes(error.code)) throw error;
      }
    } finally {
      clearTimeout(idleTimer);
      signal?.removeEventListener("abort", cancel);
      stream.abort();
    }
    failures += 1;
    if (failures > maxRetries) throw error;
    const base = Math.min(maxBackoffMs, initialBackoffMs * backoffMultiplier ** (failures - 1));
    const delayMs = Math.max(0, Math.round(base * (1 + jitter * (2 * Math.random() - 1))));
    onReconnect?.({ attempt: failures, delayMs, error, lastRun: last });
    await sleep(delayMs, signal);
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw canceled(signal);
}

function canceled(signal: AbortSignal): ConnectError {
  return new ConnectError("the watch was aborted", Code.Canceled, undefined, undefined, signal.reason);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal === undefined) {
      setTimeout(resolve, ms);
      return;
    }
    if (signal.aborted) {
      reject(canceled(signal));
      return;
    }
    const abort = () => {
      clearTimeout(timer);
      reject(canceled(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", abort);
      resolve();
    }, ms);
    signal.addEventListener("abort", abort, { once: true });
  });
}
