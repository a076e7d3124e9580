import type { Metadata } from '@grpc/grpc-js';

/** The caller of one call, as the authentication layer established it. */
export interface Principal {
  /** A SPIFFE id, DNS name, certificate CN or JWT claim; `anonymous` when authentication is off. */
  readonly identity: string;
  /** How the identity was proven. */
  readonly via: 'mtls' | 'jwt' | 'none';
  /** The roles the policy gives it (empty when authentication is off). */
  readonly roles: readonly string[];
  /** May act on what other identities own (allocations): `admin`, or authentication off. */
  readonly actsForOthers: boolean;
}

export const ANONYMOUS: Principal = Object.freeze({ identity: 'anonymous', via: 'none', roles: [], actsForOthers: true });

/**
 * The principal of each call, keyed by the call's Metadata object, which grpc-js hands from
 * the interceptors to the handler unchanged. A WeakMap rather than a metadata entry, so a
 * client can never send one of its own.
 */
const principals = new WeakMap<Metadata, Principal>();

export function setPrincipal(metadata: Metadata, principal: Principal): void {
  principals.set(metadata, principal);
}

/** The principal the authentication layer set; undefined when it set none. */
export function authenticatedPrincipalOf(metadata: Metadata): Principal | undefined {
  return principals.get(metadata);
}

/** The call's principal; `anonymous` when no authentication layer ran. */
export function principalOf(metadata: Metadata): Principal {
  return principals.get(metadata) ?? ANONYMOUS;
}
