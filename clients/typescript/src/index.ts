// @polysync/platform-client: the TypeScript client of the Polysync platform contract
// (polysync.platform.v1.PlatformService). The messages and the service descriptor are generated
// from proto/ into ./gen, the reason constants into ./reasons.ts (never edit those files); the
// helpers beside them are hand-written.

export * from "./gen/polysync/platform/v1/platform_service_pb.js";
export * from "./gen/polysync/platform/v1/pipeline_run_pb.js";
export * from "./gen/polysync/platform/v1/pipeline_pb.js";
export * from "./gen/polysync/platform/v1/connection_pb.js";
export * from "./gen/google/rpc/error_details_pb.js";

export {
  connect,
  hasTokenSource,
  type PlatformClient,
  type PlatformClientOptions,
  type TlsOptions,
  type TokenSource,
} from "./client.js";
export { ERROR_DOMAIN, REASONS, Reason } from "./reasons.js";
export { PROTO_SHA256, VERSION } from "./version.js";
export { badRequest, errorInfo, fieldViolations, helpLinks, missingParameters, reason, retryDelay, retryInfo } from "./errors.js";
export {
  backoffDelayMs,
  DEFAULT_BACKOFF,
  DEFAULT_MAX_RECONNECTS,
  fromTransport,
  type Backoff,
  type ReconnectEvent,
  type RetryOptions,
} from "./policy.js";
export { watchRun, watchRuns, type WatchEvent, type WatchOptions } from "./watch.js";
export { DEFAULT_ATTEMPT_TIMEOUT_MS, execute, type ExecuteOptions } from "./execute.js";
export { streamLogs, type StreamLogsOptions } from "./logs.js";
export { listPipelines, listRuns, type PagingOptions } from "./paging.js";
export { followChanges, type FeedEvent, type FeedEventKind, type FollowChangesOptions } from "./feed.js";
export { explainFailure } from "./explain.js";

// Re-exported so callers need no direct dependency on Connect to inspect errors.
export { Code, ConnectError } from "@connectrpc/connect";
