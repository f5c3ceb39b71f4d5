import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { hasTokenSource, type PlatformClient } from "./client.js";
import type { PipelineRun } from "./gen/polysync/platform/v1/pipeline_run_pb.js";
import { fromTransport, reconnectable, Retrier, StreamAttempt, throwIfAborted, type RetryOptions } from "./policy.js";

/** One message a watch helper yields. */
export interface WatchEvent {
  /** The run's state. */
  readonly run: PipelineRun;
  /**
   * Set while the server cannot poll AWS (throttling, 5xx, network): the time since which `run`
   * may be out of date. Undefined when the state is current.
   */
  readonly staleSince: Date | undefined;
  /**
   * True for the server's heartbeat: nothing changed, `run` repeats the latest state. Heartbeats
   * are yielded (they show the stream is alive and whether it is stale); skip them for changes only.
   */
  readonly heartbeat: boolean;
}

/** Options of watchRun and watchRuns. */
export interface WatchOptions extends RetryOptions {
  /** The platform to watch on (default "": the server's default platform). */
  platform?: string;
  /**
   * Reconnect when a stream is silent this long, in ms (default 0: never). Set it above the
   * server's heartbeat interval (30 s by default) to detect streams that died without an error.
   */
  idleTimeoutMs?: number;
  /**
   * Reconnect once on UNAUTHENTICATED, for a fresh token. Default: true when the client was
   * created with a `tokenSource`.
   */
  freshTokenRetry?: boolean;
}

interface Message {
  run?: PipelineRun;
  heartbeat: boolean;
  staleSince?: Timestamp;
}

type Open = (
  runIds: string[],
  call: { signal: AbortSignal; headers?: Record<string, string>; timeoutMs?: number },
) => AsyncIterable<Message>;

/**
 * Watches one run through WatchPipelineRun: an async iterable of events that ends after the
 * run's terminal state. It follows the reconnect policy of docs/clients.md: on UNAVAILABLE (the
 * server restarted or is shutting down, or cannot be reached), on RESOURCE_EXHAUSTED with reason
 * AWS_THROTTLED, after a stream that ends before the terminal state, and (with a token source)
 * once on UNAUTHENTICATED, it reconnects after min(15 s, 0.5 s × 2^(n−1)) ±20 %; after 10
 * reconnects in a row without a message it throws the last error. The server sends the current
 * state first on every stream; a state identical to the last one yielded (same nativeStatus,
 * statusReason, exitCode, array counts and staleSince) is not yielded again; heartbeats always
 * are. Other errors are thrown. Breaking out of the loop cancels the stream; `signal` aborts it
 * (Code.Canceled); `timeoutMs` is a deadline across reconnects (Code.DeadlineExceeded).
 */
export function watchRun(
  client: Pick<PlatformClient, "watchPipelineRun">,
  runId: string,
  options: WatchOptions = {},
): AsyncGenerator<WatchEvent, void, undefined> {
  const open: Open = (_ids, call) => client.watchPipelineRun({ platform: options.platform ?? "", runId }, call);
  return watch(client, [runId], open, options);
}

/**
 * Watches many runs through WatchPipelineRuns: an async iterable of the events of all of them
 * that ends once every run is terminal. Same policy as watchRun, per run; a reconnect asks only
 * for the runs that are not terminal yet.
 */
export function watchRuns(
  client: Pick<PlatformClient, "watchPipelineRuns">,
  runIds: readonly string[],
  options: WatchOptions = {},
): AsyncGenerator<WatchEvent, void, undefined> {
  const open: Open = (pending, call) => client.watchPipelineRuns({ platform: options.platform ?? "", runIds: pending }, call);
  return watch(client, [...runIds], open, options);
}

/**
 * What makes two states of a run the same for the suppression of repeats: the server's (native
 * status, reason, exit code, array counts; the array size never changes alone) and staleSince.
 */
function stateKey(run: PipelineRun, staleSince: Timestamp | undefined): string {
  const counts = Object.entries(run.array?.statusCounts ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const stale = staleSince ? `${staleSince.seconds}.${staleSince.nanos}` : null;
  return JSON.stringify([run.nativeStatus, run.statusReason, run.exitCode ?? null, counts, stale]);
}

async function* watch(
  client: object,
  runIds: string[],
  open: Open,
  options: WatchOptions,
): AsyncGenerator<WatchEvent, void, undefined> {
  const { signal, idleTimeoutMs = 0, headers, freshTokenRetry = hasTokenSource(client) } = options;
  const last = new Map<string, string>();
  const terminal = new Set<string>();
  const pending = () => runIds.filter((id) => !terminal.has(id));
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  const retrier = new Retrier(options, deadline);
  let unauthRetried = false;
  for (;;) {
    throwIfAborted(signal);
    const stream = new StreamAttempt(signal, idleTimeoutMs);
    let error: ConnectError;
    try {
      const timeoutMs = deadline === undefined ? {} : { timeoutMs: Math.max(1, deadline - Date.now()) };
      for await (const message of open(pending(), { signal: stream.streamSignal, ...(headers ? { headers } : {}), ...timeoutMs })) {
        stream.received();
        retrier.received();
        unauthRetried = false;
        const run = message.run;
        if (run === undefined) continue;
        const key = stateKey(run, message.staleSince);
        const repeat = !message.heartbeat && last.get(run.runId) === key;
        last.set(run.runId, key);
        if (!repeat) {
          yield {
            run,
            staleSince: message.staleSince ? timestampDate(message.staleSince) : undefined,
            heartbeat: message.heartbeat,
          };
        }
        if (run.terminal) {
          terminal.add(run.runId);
          if (pending().length === 0) return;
        }
      }
      error = new ConnectError("the watch stream ended before every watched run was terminal", Code.Unavailable);
    } catch (err) {
      throwIfAborted(signal);
      if (stream.idleExpired) {
        error = new ConnectError(`no message on the watch stream for ${idleTimeoutMs} ms`, Code.DeadlineExceeded);
      } else {
        error = fromTransport(err);
        if (!reconnectable(error, freshTokenRetry && !unauthRetried)) throw error;
        if (error.code === Code.Unauthenticated) unauthRetried = true;
      }
    } finally {
      stream.close();
    }
    await retrier.wait(error);
  }
}
