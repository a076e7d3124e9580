import { Metadata, ResponderBuilder, ServerInterceptingCall, ServerListenerBuilder, status, type ServerInterceptor } from '@grpc/grpc-js';
import type { Logger } from '../../log.js';
import { accessOf } from './access.js';
import type { Policy } from './policy.js';
import { authenticatedPrincipalOf } from './principal.js';

export interface AuthorizationOptions {
  readonly policy: Policy;
  readonly reflection: 'open' | 'authenticated' | 'off';
  readonly log: Logger;
}

/**
 * The authorization layer: lets a call through when one of its principal's roles holds
 * the method, else ends it with PERMISSION_DENIED naming the method and the identity.
 * Runs after the authentication layer; a call that reaches it without a principal is
 * refused, so a mistake in the composition fails closed.
 */
export function authorizationInterceptor(o: AuthorizationOptions): ServerInterceptor {
  return (method, call) => {
    const access = accessOf(method.path, o.reflection);
    if (access === 'open') return new ServerInterceptingCall(call);
    const name = method.path.slice(1);
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const p = authenticatedPrincipalOf(metadata);
        if (p === undefined) {
          call.sendStatus({ code: status.UNAUTHENTICATED, details: 'no credentials', metadata: new Metadata() });
          return;
        }
        if (access === 'authenticated' || o.policy.allows(p.roles, name)) return next(metadata);
        const details = `${p.identity} may not call ${name} (roles: ${p.roles.length === 0 ? 'none' : p.roles.join(', ')})`;
        o.log.info({ method: name, identity: p.identity }, 'permission denied');
        call.sendStatus({ code: status.PERMISSION_DENIED, details, metadata: new Metadata() });
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };
}
