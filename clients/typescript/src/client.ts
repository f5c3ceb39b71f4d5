import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
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

/** Options of connect. */
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

/**
 * A call refused below gRPC (no status from the server: connect-node says `[canceled] http/2
 * stream closed with error code CANCEL`, e.g. a plaintext client on a TLS port, or a client
 * without a certificate on a mutual TLS port) becomes UNAVAILABLE with a hint, as Go's and
 * Java's clients report it. The caller's own abort stays CANCELED.
 */
function explain(err: unknown, address: string): unknown {
  if (!(err instanceof ConnectError) || err.code !== Code.Canceled) return err;
  if (!err.rawMessage.startsWith("http/2 stream closed with error code")) return err;
  const hint = address.startsWith("http://")
    ? `the connection to ${address} closed without a gRPC status: the server went away or, if this keeps happening, it uses TLS (connect with tls options or an https:// address)`
    : `the connection to ${address} closed without a gRPC status: the server went away or, if this keeps happening, refused the TLS handshake (a server with mutual TLS needs tls.cert and tls.key)`;
  return new ConnectError(`${hint} (${err.rawMessage})`, Code.Unavailable, err.metadata, undefined, err);
}

function explainTransportErrors(address: string): Interceptor {
  return (next) => async (req) => {
    let res;
    try {
      res = await next(req);
    } catch (err) {
      throw explain(err, address);
    }
    if (!res.stream) return res;
    const messages = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* messages;
        } catch (err) {
          throw explain(err, address);
        }
      })(),
    };
  };
}

/** Whether `client` was created with a token source (the watch helpers then retry UNAUTHENTICATED once). */
export function hasTokenSource(client: object): boolean {
  return withTokenSource.has(client);
}

/**
 * Creates a PlatformService client speaking gRPC over HTTP/2 to `address`: a URL such as
 * `http://127.0.0.1:50051` or `https://batch.example.com`, or a bare `host:port` (plaintext,
 * or TLS when `tls` is given). Calls share one HTTP/2 connection, re-established on demand.
 */
export function connect(address: string, options: PlatformClientOptions = {}): PlatformClient {
  const { tls, token, tokenSource, interceptors = [], transport = {} } = options;
  if (token !== undefined && tokenSource !== undefined) {
    throw new TypeError("connect: give either token or tokenSource, not both");
  }
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address);
  const baseUrl = hasScheme ? address : `${tls ? "https" : "http"}://${address}`;
  if (tls && baseUrl.startsWith("http://")) {
    throw new TypeError(`connect: tls options with a plaintext address ${address}`);
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
    createGrpcTransport({
      ...transport,
      ...(nodeOptions ? { nodeOptions } : {}),
      baseUrl,
      interceptors: [explainTransportErrors(baseUrl), ...bearer, ...interceptors],
    }),
  );
  if (tokenSource !== undefined) withTokenSource.add(client);
  return client;
}
