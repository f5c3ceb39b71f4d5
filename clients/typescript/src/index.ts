// @polysync/platform-client: the TypeScript client of the Polysync platform contract
// (polysync.platform.v1.PlatformService). The messages and the service descriptor are generated
// from proto/ into ./gen (never edit those files); the helpers beside them are hand-written.

export * from "./gen/polysync/platform/v1/platform_service_pb.js";
export * from "./gen/polysync/platform/v1/pipeline_run_pb.js";
export * from "./gen/polysync/platform/v1/pipeline_pb.js";
export * from "./gen/polysync/platform/v1/connection_pb.js";
export * from "./gen/google/rpc/error_details_pb.js";

export { createPlatformClient, type PlatformClient, type PlatformClientOptions } from "./client.js";
export { ERROR_DOMAIN, REASONS, Reason } from "./reasons.js";
export { errorInfo, errorReason, fieldViolations, helpLinks, retryInfo } from "./errors.js";
export { watchRun, type ReconnectEvent, type WatchRunOptions } from "./watch.js";

// Re-exported so callers need no direct dependency on Connect to inspect errors.
export { Code, ConnectError } from "@connectrpc/connect";
