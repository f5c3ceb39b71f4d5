// The feed helper (docs/clients.md "The feed helper", SPEC §12): follows WatchRunChanges the way
// a Kubernetes informer lists and watches. Its behaviour is fixed, as data, by
// clients/feed-policy.json, which test/feed-policy.test.ts replays.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { hasTokenSource, type PlatformClient } from "./client.js";
import { reason } from "./errors.js";
import { PipelineRunSchema, type PipelineRun } from "./gen/polysync/platform/v1/pipeline_run_pb.js";
import type {
  BatchGetPipelineRunsResponse,
  WatchRunChangesRequestSchema,
  WatchRunChangesResponse,
} from "./gen/polysync/platform/v1/platform_service_pb.js";
import { fromTransport, reconnectable, Retrier, StreamAttempt, throwIfAborted, type RetryOptions } from "./policy.js";
import { Reason } from "./reasons.js";

/** What a feed event is: a run's change, a run gone, the end of the snapshot, a bookmark, or a relist. */
export type FeedEventKind = "change" | "gone" | "snapshot_complete" | "heartbeat" | "relist";

/** One event followChanges hands its caller. */
export interface FeedEvent {
  /**
   * "change": a run changed (`run`, `version`, `time`); version 0n marks a run read with
   * BatchGetPipelineRuns at the end of a relist's snapshot (below; or of the first snapshot, for
   * a run of the `inFlight` option). "gone": a run handed out earlier (or given in `inFlight`),
   * not terminal then, that neither AWS Batch nor the server's history knows any more
   * (`run` carries only its `runId`; how it ended is unknown). "snapshot_complete": every
   * non-terminal run was handed out (after a start or a relist without a cursor). "heartbeat":
   * nothing changed; `cursor` is a fresher bookmark. "relist": the server no longer knows the
   * cursor (CURSOR_EXPIRED: it restarted without a history table, or the cursor is older than
   * what it keeps); a fresh snapshot follows, with versions numbered anew: reconcile what you
   * derived from earlier changes against it. Before its "snapshot_complete" the helper re-reads
   * the runs it handed you in flight that the snapshot does not list (they ended, or AWS forgot
   * them, while the feed could not be followed): each comes as a "change" of version 0n (how it
   * is now, e.g. how it ended; a later change of it has a higher version) or as "gone".
   */
  readonly kind: FeedEventKind;
  /** The run's state after the change ("change"; "gone": only its `runId`). */
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
   * Run ids you know are in flight: after a restart of your own, the runs your store says have
   * not ended. They are in flight from the start, as if the helper had handed them out (in this
   * order, before any it hands out), so the next snapshot's end (the first one without a
   * `cursor`; with one, a relist's) reads those it does not list and yields how they ended: a
   * "change" of version 0n, or "gone". Empty ids are ignored.
   */
  inFlight?: string[];
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

/** BatchGetPipelineRuns takes at most this many run ids (SPEC §2). */
const READ_AT_MOST = 1000;

/**
 * What followChanges remembers between messages and streams, and decides for each message
 * (clients/feed-policy.json). A message that completes a snapshot is handed out in three steps:
 * `events` (its changes), `read` for each answer to the calls `toRead` names, then `complete`.
 */
class FeedState {
  /** The last cursor received ("" until a snapshot completes). */
  cursor: string;
  /** Run id → the last version handed out. */
  private versions = new Map<string, bigint>();
  /**
   * The runs handed out whose latest state is not terminal, in the order first handed out (the
   * caller's `inFlight` first, in the order given).
   */
  private readonly inFlight = new Set<string>();
  /** During a snapshot: the runs it listed; undefined otherwise. */
  private listed: Set<string> | undefined;
  /** The message that completes a snapshot, while its reads are made. */
  private completing: WatchRunChangesResponse | undefined;

  constructor(cursor: string, inFlight: readonly string[]) {
    this.cursor = cursor;
    for (const runId of inFlight) if (runId !== "") this.inFlight.add(runId); // a Set keeps the first place
  }

  /** The next stream's request: from the last cursor, or without one a snapshot, which forgets the versions seen. */
  request(platform: string, tags: Record<string, string>): MessageInitShape<typeof WatchRunChangesRequestSchema> {
    const snapshot = this.cursor === "";
    this.listed = snapshot ? new Set() : undefined;
    this.completing = undefined;
    if (snapshot) this.versions = new Map(); // those of another history mean nothing to it
    return { platform, cursor: this.cursor, snapshot, tags };
  }

  /**
   * The events of a message: its changes not handed out before, then snapshot_complete or
   * heartbeat; the last carries the message's cursor, the earlier ones the cursor before it.
   * During a snapshot every event carries the cursor before it (""), and for the message that
   * completes it only its changes are returned (`completes`: read `toRead`, then `complete`).
   */
  events(message: WatchRunChangesResponse): { events: FeedEvent[]; completes: boolean } {
    const before = this.cursor;
    const out: FeedEvent[] = [];
    for (const change of message.changes) {
      const runId = change.run?.runId ?? "";
      this.listed?.add(runId);
      const last = this.versions.get(runId);
      if (last !== undefined && change.version <= last) continue; // already handed out (at least once)
      this.handOut(runId, change.run?.terminal ?? false, change.version);
      out.push(event("change", before, message.staleSince, change));
    }
    if (this.listed !== undefined && message.snapshotComplete) {
      this.completing = message;
      return { events: out, completes: true };
    }
    out.push(...rest(message, before));
    if (this.listed === undefined) {
      if (message.cursor !== "") this.cursor = message.cursor;
      // Only the message's last event carries its cursor: resuming from it skips nothing.
      if (out.length > 0) out[out.length - 1] = { ...out[out.length - 1]!, cursor: this.cursor };
    }
    return { events: out, completes: false };
  }

  /** The runs in flight that the completing snapshot did not list, in calls of BatchGetPipelineRuns. */
  toRead(): string[][] {
    const ids = [...this.inFlight].filter((runId) => !this.listed?.has(runId));
    const calls: string[][] = [];
    for (let i = 0; i < ids.length; i += READ_AT_MOST) calls.push(ids.slice(i, i + READ_AT_MOST));
    return calls;
  }

  /**
   * An answer of BatchGetPipelineRuns: each run as a change of version 0n (its version in this
   * history is unknown: any later change has a higher one), each missing run as "gone".
   */
  read(answer: BatchGetPipelineRunsResponse): FeedEvent[] {
    const staleSince = this.completing?.staleSince;
    const out: FeedEvent[] = [];
    for (const run of answer.runs) {
      this.handOut(run.runId, run.terminal, 0n);
      out.push(event("change", this.cursor, staleSince, { run, version: 0n }));
    }
    for (const runId of answer.missingRunIds) {
      this.inFlight.delete(runId);
      out.push(event("gone", this.cursor, staleSince, { run: create(PipelineRunSchema, { runId }), version: 0n }));
    }
    return out;
  }

  /** The end of the snapshot: the completing message's snapshot_complete (and heartbeat), with its cursor. */
  complete(): FeedEvent[] {
    const message = this.completing!;
    this.completing = undefined;
    this.listed = undefined;
    const out = rest(message, this.cursor);
    if (message.cursor !== "") this.cursor = message.cursor;
    out[out.length - 1] = { ...out[out.length - 1]!, cursor: this.cursor };
    return out;
  }

  /** CURSOR_EXPIRED: the next stream is a snapshot. */
  relist(): void {
    this.cursor = "";
  }

  private handOut(runId: string, terminal: boolean, version: bigint): void {
    this.versions.set(runId, version);
    if (terminal) this.inFlight.delete(runId);
    else if (!this.inFlight.has(runId)) this.inFlight.add(runId);
  }
}

/** A message's snapshot_complete and heartbeat events, with the cursor before it. */
function rest(message: WatchRunChangesResponse, before: string): FeedEvent[] {
  const out: FeedEvent[] = [];
  if (message.snapshotComplete) out.push(event("snapshot_complete", before, message.staleSince));
  if (message.heartbeat) out.push(event("heartbeat", before, message.staleSince));
  return out;
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
 * "snapshot_complete"); the snapshot's events carry the cursor "" until its "snapshot_complete",
 * and a stream that ends before it is followed by a new snapshot (a cursor cannot resume the
 * rest of one). At a snapshot's end, the runs handed out earlier (and the `inFlight` option's)
 * and not yet terminal that it does not list (after a relist: runs that ended, or that AWS
 * forgot, meanwhile) are read with BatchGetPipelineRuns (at most 1000 a call, with the stream's platform and headers) and handed
 * out as a "change" of version 0n or as "gone", before "snapshot_complete"; a failed read is
 * handled as the stream's error, and the next snapshot reads them again. On any disconnect (UNAVAILABLE, RESOURCE_EXHAUSTED / AWS_THROTTLED, a
 * clean end, the idle timeout, and once on UNAUTHENTICATED with a token source) it resumes from
 * the last cursor received, after the watch helpers' backoff (min(15 s, 0.5 s × 2^(n−1)) ±20 %,
 * at most 10 reconnects in a row without a message). On FAILED_PRECONDITION / CURSOR_EXPIRED it
 * relists at once: a "relist" event, then a new snapshot (a second CURSOR_EXPIRED before any
 * message is thrown). A change whose version is not above the last one handed out for its run
 * is dropped. Every other error is thrown. Store each event's `cursor` after handling it and
 * pass it back as `cursor` to resume after a restart of your own.
 */
export async function* followChanges(
  client: Pick<PlatformClient, "watchRunChanges" | "batchGetPipelineRuns">,
  options: FollowChangesOptions = {},
): AsyncGenerator<FeedEvent, void, undefined> {
  const { signal, idleTimeoutMs = 0, headers, freshTokenRetry = hasTokenSource(client) } = options;
  const platform = options.platform ?? "";
  const tags = { ...(options.tags ?? {}) };
  const deadline = options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs;
  const retrier = new Retrier(options, deadline);
  const state = new FeedState(options.cursor ?? "", options.inFlight ?? []);
  let unauthRetried = false;
  let relisted = false; // a relist happened and no message arrived since
  for (;;) {
    throwIfAborted(signal);
    const stream = new StreamAttempt(signal, idleTimeoutMs);
    let error: ConnectError;
    try {
      const callOptions = () => ({
        signal: stream.streamSignal,
        ...(headers ? { headers } : {}),
        ...(deadline === undefined ? {} : { timeoutMs: Math.max(1, deadline - Date.now()) }),
      });
      const messages: AsyncIterable<WatchRunChangesResponse> = client.watchRunChanges(
        state.request(platform, tags),
        callOptions(),
      );
      for await (const message of messages) {
        stream.received();
        retrier.received();
        unauthRetried = false;
        relisted = false;
        const { events, completes } = state.events(message);
        for (const e of events) yield e;
        if (!completes) continue;
        for (const runIds of state.toRead()) {
          // An error is the stream's: the snapshot is not complete, the next stream is a new one.
          const answer = await client.batchGetPipelineRuns({ platform, runIds }, callOptions());
          for (const e of state.read(answer)) yield e;
        }
        for (const e of state.complete()) yield e;
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
          state.relist(); // the next stream is a snapshot, which forgets the versions seen
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
