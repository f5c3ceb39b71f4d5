import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport, type GrpcTransportOptions } from "@connectrpc/connect-node";
import { PlatformService } from "./gen/polysync/platform/v1/platform_service_pb.js";

/** A typed client of polysync.platform.v1.PlatformService: one method per RPC. */
export type PlatformClient = Client<typeof PlatformService>;

/** Returns the bearer token for one call; called before every call and every reconnect. */
export type TokenSource = () => string | Promise<string>;

/** TLS settings: PEM text or bytes, as Node's `tls` module takes them. */
export interface TlsOptions {
  /** The CA certificate(s) that signed the server's certificate, instead of Node's roots. */
  ca?: string | Buffer;
  /** A client certificate chain to present (mutual TLS), with its `key`. */
  cert?: string | Buffer;
  /** The private key of `cert`. */
  key?: string | Buffer;
}

/** Options of createPlatformClient. */
export interface PlatformClientOptions {
  /**
   * TLS settings; setting them makes a bare `host:port` address use `https://`. Without them a
   * bare address is plaintext (`http://`), as for the local demo server.
   */
  tls?: TlsOptions;
  /** A static bearer token, sent as `authorization: Bearer <token>` with every call. */
  token?: string;
  /**
   * A token source, asked for the token before every call (so it may refresh it); the watch
   * helpers then also reconnect once on UNAUTHENTICATED to get a fresh one.
   */
  tokenSource?: TokenSource;
  /** Further Connect interceptors, run after the one that adds the token. */
  interceptors?: Interceptor[];
  /** Any other option of Connect's gRPC transport (timeouts, HTTP/2 pings, …). */
  transport?: Omit<GrpcTransportOptions, "baseUrl" | "interceptors">;
}

const withTokenSource = new WeakSet<object>();

/** Whether `client` was created with a token source (the watch helpers then retry UNAUTHENTICATED once). */
export function hasTokenSource(client: object): boolean {
  return withTokenSource.has(client);
}

/**
 * Creates a PlatformService client speaking gRPC over HTTP/2 to `address`: a URL such as
 * `http://127.0.0.1:50051` or `https://batch.example.com`, or a bare `host:port` (plaintext,
 * or TLS when `tls` is given). Calls share one HTTP/2 connection, re-established on demand.
 */
export function createPlatformClient(address: string, options: PlatformClientOptions = {}): PlatformClient {
  const { tls, token, tokenSource, interceptors = [], transport = {} } = options;
  if (token !== undefined && tokenSource !== undefined) {
    throw new TypeError("createPlatformClient: give either token or tokenSource, not both");
  }
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address);
  const baseUrl = hasScheme ? address : `${tls ? "https" : "http"}://${address}`;
  if (tls && baseUrl.startsWith("http://")) {
    throw new TypeError(`createPlatformClient: tls options with a plaintext address ${address}`);
  }
  const source: TokenSource | undefined = tokenSource ?? (token !== undefined ? () => token : undefined);
  const bearer: Interceptor[] = source
    ? [
        (next) => async (req) => {
          req.header.set("authorization", `Bearer ${await source()}`);
          return next(req);
        },
      ]
    : [];
  const nodeOptions = tls ? { ...transport.nodeOptions, ca: tls.ca, cert: tls.cert, key: tls.key } : transport.nodeOptions;
  const client = createClient(
    PlatformService,
    createGrpcTransport({ ...transport, ...(nodeOptions ? { nodeOptions } : {}), baseUrl, interceptors: [...bearer, ...interceptors] }),
  );
  if (tokenSource !== undefined) withTokenSource.add(client);
  return client;
}
