// The reconnect policy every client of polysync-batch follows (docs/clients.md): reconnect on
// UNAVAILABLE (a connection torn down under the call included: fromTransport), on RESOURCE_EXHAUSTED with reason AWS_THROTTLED, after a stream that ends cleanly
// before the terminal state, and (with a token source) once on UNAUTHENTICATED; wait
// min(15 s, 0.5 s × 2^(n−1)) × [0.8, 1.2] before attempt n; give up after 10 consecutive
// reconnects without a message.
import { Code, ConnectError } from "@connectrpc/connect";
import { reason } from "./errors.js";
import { Reason } from "./reasons.js";

/** The delay schedule between attempts: attempt n waits min(maxMs, initialMs × multiplier^(n−1)) × [1−jitter, 1+jitter]. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  jitter: number;
}

/** The policy's schedule: 0.5 s, 1 s, 2 s, 4 s, 8 s, then 15 s, each ±20 %. */
export const DEFAULT_BACKOFF: Readonly<Backoff> = Object.freeze({ initialMs: 500, maxMs: 15_000, multiplier: 2, jitter: 0.2 });

/** The policy's budget: consecutive reconnects without receiving a message. */
export const DEFAULT_MAX_RECONNECTS = 10;

/** The delay before consecutive attempt `attempt` (1 for the first), in ms. */
export function backoffDelayMs(attempt: number, backoff: Partial<Backoff> = {}, random: () => number = Math.random): number {
  const { initialMs, maxMs, multiplier, jitter } = { ...DEFAULT_BACKOFF, ...backoff };
  const base = Math.min(maxMs, initialMs * multiplier ** (attempt - 1));
  return Math.max(0, base * (1 + jitter * (2 * random() - 1)));
}

/** Why and when a helper retries; passed to `onReconnect`. */
export interface ReconnectEvent {
  /** 1 for the first retry after a failure, 2 for the next one without a message between… */
  readonly attempt: number;
  /** How long the helper waits before the next attempt, in ms. */
  readonly delayMs: number;
  /** Why the previous stream or call ended. */
  readonly error: ConnectError;
}

/** Options shared by the watch helpers and execute. */
export interface RetryOptions {
  /** Stops the helper: it then throws a ConnectError with Code.Canceled, also during a backoff. */
  signal?: AbortSignal;
  /** Consecutive retries allowed without a message in between (default 10); then the last error is thrown. */
  maxReconnects?: number;
  /** The delay schedule (default DEFAULT_BACKOFF); give only what differs. */
  backoff?: Partial<Backoff>;
  /** Called before each retry (for logs and metrics). */
  onReconnect?: (event: ReconnectEvent) => void;
  /** Request headers sent with every call. */
  headers?: Record<string, string>;
  /**
   * A deadline across every attempt, in ms from the start: a reconnect whose backoff would end
   * at or after it is neither reported nor waited for; the helper throws Code.DeadlineExceeded.
   */
  timeoutMs?: number;
}

/** Counts consecutive attempts and waits the backoff between them. */
export class Retrier {
  private attempt = 0;
  constructor(
    private readonly options: RetryOptions,
    private readonly deadline?: number,
  ) {}

  /** A message arrived: the count starts over. */
  received(): void {
    this.attempt = 0;
  }

  /** Records a failed attempt: throws `error` once the budget is spent, else waits the backoff. */
  async wait(error: ConnectError): Promise<void> {
    this.attempt += 1;
    const { maxReconnects = DEFAULT_MAX_RECONNECTS, backoff, onReconnect, signal } = this.options;
    if (maxReconnects >= 0 && this.attempt > maxReconnects) throw error;
    const delayMs = backoffDelayMs(this.attempt, backoff);
    if (this.deadline !== undefined && Date.now() + delayMs >= this.deadline) {
      throw new ConnectError(
        `the helper's timeout of ${this.options.timeoutMs} ms passes before the next reconnect (last error: ${error.message})`,
        Code.DeadlineExceeded,
        undefined,
        undefined,
        error,
      );
    }
    onReconnect?.({ attempt: this.attempt, delayMs, error });
    await sleep(delayMs, signal);
  }
}

/** Whether a watch reconnects after a stream failed with `error`. */
// Node's codes for a connection or HTTP/2 stream torn down under a call.
const TRANSPORT_FAILURES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_HTTP2_SESSION_ERROR",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_INVALID_STREAM",
  "ERR_STREAM_DESTROYED",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/**
 * The error as the gRPC status it stands for. connect-node reports a connection torn down under
 * a call (a TCP reset from a killed server or a load balancer, a broken pipe, the peer
 * cancelling the HTTP/2 stream) as ABORTED or CANCELED; gRPC's own clients call that
 * UNAVAILABLE, and so do these helpers, so it is retried like a server restart. The caller's
 * own abort is checked before this is asked.
 */
export function fromTransport(err: unknown): ConnectError {
  const error = ConnectError.from(err);
  if (error.code !== Code.Aborted && error.code !== Code.Canceled) return error;
  let torn = error.rawMessage.startsWith("http/2 stream closed with error code");
  for (let cause: unknown = error.cause; !torn && cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    torn = typeof code === "string" && TRANSPORT_FAILURES.has(code);
  }
  return torn ? new ConnectError(error.rawMessage, Code.Unavailable, error.metadata, undefined, error) : error;
}

export function reconnectable(error: ConnectError, freshTokenRetry: boolean): boolean {
  switch (error.code) {
    case Code.Unavailable:
      return true;
    case Code.ResourceExhausted:
      return reason(error) === Reason.AWS_THROTTLED;
    case Code.Unauthenticated:
      return freshTokenRetry;
    default:
      return false;
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw canceled(signal);
}

export function canceled(signal: AbortSignal): ConnectError {
  return new ConnectError("aborted by the caller", Code.Canceled, undefined, undefined, signal.reason);
}

export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(canceled(signal));
      return;
    }
    const abort = () => {
      clearTimeout(timer);
      reject(canceled(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", abort, { once: true });
  });
}

/**
 * One stream of a watch or feed helper: aborted when the caller's signal aborts, when the idle
 * timeout (off when 0) passes without a message, or when closed.
 */
export class StreamAttempt {
  private readonly controller = new AbortController();
  private readonly cancel: () => void;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Whether the idle timeout, not the server, ended the stream. */
  idleExpired = false;

  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly idleTimeoutMs: number,
  ) {
    this.cancel = () => this.controller.abort(signal?.reason);
    signal?.addEventListener("abort", this.cancel, { once: true });
    this.received();
  }

  /** The signal to open the stream with. */
  get streamSignal(): AbortSignal {
    return this.controller.signal;
  }

  /** The stream sent something: the idle clock starts over. */
  received(): void {
    if (this.idleTimeoutMs <= 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.idleExpired = true;
      this.controller.abort();
    }, this.idleTimeoutMs);
  }

  close(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener("abort", this.cancel);
    this.controller.abort();
  }
}
