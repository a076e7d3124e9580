import { InterceptingCall, status, type ChannelCredentials, type Interceptor } from '@grpc/grpc-js';

/**
 * A bearer token: a fixed string, or a function asked before every call (and every retry
 * attempt), so a token can be refreshed before it expires.
 */
export type TokenSource = string | ((call: { readonly method: string }) => string | Promise<string>);

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1)$/i;

/** The host of a grpc-js target (`host:port`, `[v6]:port`, `dns:///host:port`); undefined for a unix socket. */
function hostOf(address: string): string | undefined {
  if (address.startsWith('unix:')) return undefined;
  const rest = address.replace(/^(dns|ipv4|ipv6):(\/\/[^/]*\/)?/i, '');
  const v6 = /^\[([^\]]+)\]/.exec(rest);
  if (v6 !== null) return v6[1];
  return rest.split(':')[0];
}

/**
 * Throws when a token would travel in plaintext over the network: a token is refused
 * without TLS unless the server is on this machine (a loopback address or a unix socket).
 */
export function checkTokenTransport(address: string, credentials: ChannelCredentials): void {
  if (credentials._isSecure()) return;
  const host = hostOf(address);
  if (host === undefined || LOOPBACK.test(host)) return;
  throw new Error(`refusing to send a bearer token in plaintext to ${address}: use tls, or a loopback address`);
}

/** A client interceptor adding `authorization: Bearer <token>` to every call. */
export function tokenInterceptor(token: TokenSource): Interceptor {
  return (options, nextCall) => {
    const call: InterceptingCall = new InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        Promise.resolve()
          .then(() => (typeof token === 'string' ? token : token({ method: options.method_definition.path })))
          .then(
            (t) => {
              metadata.set('authorization', `Bearer ${t}`);
              next(metadata, listener);
            },
            (err: unknown) => {
              next(metadata, listener);
              call.cancelWithStatus(status.UNAUTHENTICATED, `the token function failed: ${err instanceof Error ? err.message : String(err)}`);
            },
          );
      },
    });
    return call;
  };
}
