import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport, type GrpcTransportOptions } from "@connectrpc/connect-node";
import { PlatformService } from "./gen/polysync/platform/v1/platform_service_pb.js";

/** A typed client of polysync.platform.v1.PlatformService: one method per RPC. */
export type PlatformClient = Client<typeof PlatformService>;

/** Transport options of createPlatformClient (everything of Connect's gRPC transport but the URL). */
export type PlatformClientOptions = Omit<GrpcTransportOptions, "baseUrl">;

/**
 * Creates a PlatformService client speaking gRPC over HTTP/2 to `address`: a URL such as
 * `http://127.0.0.1:50051` or `https://batch.example.com`, or a bare `host:port` (plaintext).
 * Calls share one HTTP/2 connection, re-established on demand after the server goes away.
 */
export function createPlatformClient(address: string, options: PlatformClientOptions = {}): PlatformClient {
  const baseUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`;
  return createClient(PlatformService, createGrpcTransport({ ...options, baseUrl }));
}
