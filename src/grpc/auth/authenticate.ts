import { Metadata, ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status, type ServerInterceptor } from '@grpc/grpc-js';
import type { Logger } from '../../log.js';
import { accessOf } from './access.js';
import { certificateIdentity, KeySetUnavailable, Unauthenticated, type JwtVerifier } from './identity.js';
import type { Policy } from './policy.js';
import { setPrincipal, type Principal } from './principal.js';

export interface AuthenticationOptions {
  /** Mutual TLS is on: the transport has verified a client certificate on every connection. */
  readonly mutualTls: boolean;
  readonly jwt: JwtVerifier | undefined;
  readonly policy: Policy;
  readonly reflection: 'open' | 'authenticated' | 'off';
  readonly log: Logger;
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;

/**
 * The authentication layer: establishes who calls, from the bearer JWT when one is sent,
 * else from the verified client certificate, and attaches the principal (identity and the
 * policy's roles) to the call. A call without a valid identity ends here with
 * UNAUTHENTICATED saying what is missing.
 */
export function authenticationInterceptor(o: AuthenticationOptions): ServerInterceptor {
  const missing = [o.mutualTls ? 'a client certificate' : '', o.jwt !== undefined ? 'an "authorization: Bearer <JWT>" header' : '']
    .filter((s) => s !== '')
    .join(' or ');

  const identify = async (metadata: Metadata, peer: () => ReturnType<ServerInterceptingCall['getAuthContext']>): Promise<Pick<Principal, 'identity' | 'via'>> => {
    const header = metadata.get('authorization')[0];
    if (header !== undefined) {
      if (o.jwt === undefined) throw new Unauthenticated('this server does not accept bearer tokens');
      const m = typeof header === 'string' ? BEARER.exec(header) : null;
      if (m === null) throw new Unauthenticated('the authorization header must be "Bearer <JWT>"');
      return { identity: await o.jwt.identityOf(m[1]!), via: 'jwt' };
    }
    const cert = o.mutualTls ? peer().sslPeerCertificate : undefined;
    if (cert !== undefined && Object.keys(cert).length > 0) {
      const identity = certificateIdentity(cert);
      if (identity === undefined) throw new Unauthenticated('the client certificate names no identity (no URI or DNS SAN, no CN)');
      return { identity, via: 'mtls' };
    }
    throw new Unauthenticated(`no credentials: send ${missing}`);
  };

  return (method, call) => {
    if (accessOf(method.path, o.reflection) === 'open') return new ServerInterceptingCall(call);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        identify(metadata, () => call.getAuthContext()).then(
          (who) => {
            const roles = o.policy.rolesOf(who.identity);
            setPrincipal(metadata, { ...who, roles, actsForOthers: roles.includes('admin') });
            next(metadata);
          },
          (err: unknown) => {
            if (err instanceof Unauthenticated) {
              o.log.info({ method: method.path, reason: err.message }, 'unauthenticated call');
              call.sendStatus({ code: status.UNAUTHENTICATED, details: err.message, metadata: new Metadata() });
            } else if (err instanceof KeySetUnavailable) {
              o.log.warn({ method: method.path }, err.message);
              call.sendStatus({ code: status.UNAVAILABLE, details: err.message, metadata: new Metadata() });
            } else {
              o.log.error({ method: method.path, err: (err as Error).message }, 'authentication failed unexpectedly');
              call.sendStatus({ code: status.INTERNAL, details: 'internal error; see the service log', metadata: new Metadata() });
            }
          },
        );
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };
}
