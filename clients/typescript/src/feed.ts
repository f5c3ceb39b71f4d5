// The feed helper (docs/clients.md "The feed helper", SPEC §12): follows WatchRunChanges the way
// a Kubernetes informer lists and watches. Its behaviour is fixed, as data, by
// clients/feed-policy.json, which test/feed-policy.test.ts replays.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { hasTokenSource, type PlatformClient } from "./client.js";
import { reason } from "./errors.js";
import type { PipelineRun } from "./gen/polysync/platform/v1/pipeline_run_pb.js";
import type { WatchRunChangesResponse } from "./gen/polysync/platform/v1/platform_service_pb.js";
import { fromTransport, reconnectable, Retrier, StreamAttempt, throwIfAborted, type RetryOptions } from "./policy.js";
import { Reason } from "./reasons.js";

/** What a feed event is: a run's change, the end of the snapshot, a bookmark, or a relist. */
export type FeedEventKind = "change" | "snapshot_complete" | "heartbeat" | "relist";

/** One event followChanges hands its caller. */
export interface FeedEvent {
  /**
   * "change": a run changed (`run`, `version`, `time`). "snapshot_complete": every non-terminal
   * run was handed out (after a start or a relist without a cursor). "heartbeat": nothing
   * changed; `cursor` is a fresher bookmark. "relist": the server no longer knows the cursor
   * (CURSOR_EXPIRED: it restarted without a history table, or the cursor is older than what it
   * keeps); a fresh snapshot follows, so forget what you derived from earlier changes or
   * reconcile it against the snapshot.
   */
  readonly kind: FeedEventKind;
  /** The run's state after the change ("change" only). */
  readonly run: PipelineRun | undefined;
  /** The run's version ("change" only; 0n otherwise): increases with every change of that run. */
  readonly version: bigint;
  /** When the change happened: the AWS event's time, else when the server saw it ("change" only). */
  readonly time: Date | undefined;
  /** True while the server cannot poll AWS: changes may be missing or late (see `staleSince`). */
  readonly stale: boolean;
  /** Since when the feed may be out of date; undefined when it is current. */
  readonly staleSince: Date | undefined;
  /**
   * The cursor to store once this event is handled: resuming from it (the `cursor` option)
   * loses nothing, even in the middle of a message of many changes. "" means "no cursor yet":
   * resuming from it starts with a snapshot.
   */
  readonly cursor: string;
}

/** Options of followChanges. */
export interface FollowChangesOptions extends RetryOptions {
  /** The platform to follow (default "": the server's default platform). */
  platform?: string;
  /** Only runs whose tags include all of these. */
  tags?: Record<string, string>;
  /**
   * Where to resume: a cursor stored from an earlier event. Without one (or "") the feed starts
   * with a snapshot of every non-terminal run, then a "snapshot_complete" event.
   */
  cursor?: string;
  /**
   * Reconnect when a stream is silent this long, in ms (default 0: never). Set it above the
   * server's heartbeat interval (30 s by default).
   */
  idleTimeoutMs?: number;
  /** Reconnect once on UNAUTHENTICATED, for a fresh token. Default: true with a `tokenSource`. */
  freshTokenRetry?: boolean;
}

function event(
  kind: FeedEventKind,
  cursor: string,
  staleSince: Timestamp | undefined,
  change?: { run?: PipelineRun | undefined; version: bigint; time?: Timestamp | undefined },
): FeedEvent {
  return {
    kind,
    run: change?.run,
    version: change?.version ?? 0n,
    time: change?.time ? timestampDate(change.time) : undefined,
    stale: staleSince !== undefined,
    staleSince: staleSince ? timestampDate(staleSince) : undefined,
    cursor,
  };
}

/** The cursor is unknown to the server: relist. */
function cursorExpired(error: ConnectError): boolean {
  return error.code === Code.FailedPrecondition && reason(error) === Reason.CURSOR_EXPIRED;
}

/**
 * Follows every run's changes on a platform (SPEC §12) as an informer: an async iterable of
 * events that ends only with an error, the caller's abort or `timeoutMs`, or when the caller
 * breaks out of the loop.
 *
 * Without a cursor it starts with a snapshot of every non-terminal run ("change" events, then
 * "snapshot_complete"). On any disconnect (UNAVAILABLE, RESOURCE_EXHAUSTED / AWS_THROTTLED, a
 * clean end, the idle timeout, and once on UNAUTHENTICATED with a token source) it resumes from
 * the last cursor received, after the watch helpers' backoff (min(15 s, 0.5 s × 2^(n−1)) ±20 %,
 * at most 10 reconnects in a row without a message). On FAILED_PRECONDITION / CURSOR_EXPIRED it
 * relists at once: a "relist" event, then a new snapshot (a second CURSOR_EXPIRED before any
 * message is thrown). A change whose version is not above the last one handed out for its run
 * is dropped. Every other error is thrown. Store each event's `cursor` after handling it and
 * pass it back as `cursor` to resume after a restart of your own.
 */
export async function* followChanges(
  client: Pick<PlatformClient, "watchRunChanges">,
  options: FollowChangesOptions = {},
): AsyncGenerator<FeedEvent, void, undefined> {
  const { signal, idleTimeoutMs = 0, headers, freshTokenRetry = hasTokenSource(client) } = options;
  const platform = options.platform ?? "";
  const tags = { ...(options.tags ?? {}) };
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  const retrier = new Retrier(options, deadline);
  let cursor = options.cursor ?? "";
  let versions = new Map<string, bigint>();
  let unauthRetried = false;
  let relisted = false; // a relist happened and no message arrived since
  for (;;) {
    throwIfAborted(signal);
    const stream = new StreamAttempt(signal, idleTimeoutMs);
    let error: ConnectError;
    try {
      const timeoutMs = deadline === undefined ? {} : { timeoutMs: Math.max(1, deadline - Date.now()) };
      const request = { platform, cursor, snapshot: cursor === "", tags };
      const messages: AsyncIterable<WatchRunChangesResponse> = client.watchRunChanges(request, {
        signal: stream.streamSignal,
        ...(headers ? { headers } : {}),
        ...timeoutMs,
      });
      for await (const message of messages) {
        stream.received();
        retrier.received();
        unauthRetried = false;
        relisted = false;
        const before = cursor;
        cursor = message.cursor;
        const out: FeedEvent[] = [];
        for (const change of message.changes) {
          const runId = change.run?.runId ?? "";
          const last = versions.get(runId);
          if (last !== undefined && change.version <= last) continue;
          versions.set(runId, change.version);
          out.push(event("change", before, message.staleSince, change));
        }
        if (message.snapshotComplete) out.push(event("snapshot_complete", before, message.staleSince));
        if (message.heartbeat) out.push(event("heartbeat", before, message.staleSince));
        // Only the message's last event carries its cursor: resuming from it skips nothing.
        if (out.length > 0) out[out.length - 1] = { ...out[out.length - 1]!, cursor };
        for (const e of out) yield e;
      }
      error = new ConnectError("the feed stream ended (the feed has no end of its own)", Code.Unavailable);
    } catch (err) {
      throwIfAborted(signal);
      if (stream.idleExpired) {
        error = new ConnectError(`no message on the feed stream for ${idleTimeoutMs} ms`, Code.DeadlineExceeded);
      } else {
        error = fromTransport(err);
        if (cursorExpired(error)) {
          if (relisted) throw error;
          // Relist: at once, not counted as a reconnect; versions restart with a new history.
          relisted = true;
          cursor = "";
          versions = new Map();
          yield event("relist", "", undefined);
          continue;
        }
        if (!reconnectable(error, freshTokenRetry && !unauthRetried)) throw error;
        if (error.code === Code.Unauthenticated) unauthRetried = true;
      }
    } finally {
      stream.close();
    }
    await retrier.wait(error);
  }
}
