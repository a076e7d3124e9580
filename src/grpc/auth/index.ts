import { ServerCredentials, type ServerInterceptor } from '@grpc/grpc-js';
import { ConfigError } from '../../config.js';
import type { Logger } from '../../log.js';
import { isLoopback, type SecurityConfig } from '../../security-config.js';
import { authenticationInterceptor } from './authenticate.js';
import { authorizationInterceptor } from './authorize.js';
import { JwtVerifier } from './identity.js';
import { Policy, type MethodName } from './policy.js';
import { RotatingServerCredentials } from './tls.js';

/** What the server is built with: transport credentials and the auth layers, in order. */
export interface EdgeSecurity {
  readonly credentials: ServerCredentials;
  /** Authentication, then authorization; empty when authentication is off. */
  readonly interceptors: readonly ServerInterceptor[];
  /** Whether the reflection service is served at all. */
  readonly reflection: boolean;
  /** Undefined when authentication is off. */
  readonly policy: Policy | undefined;
  /** Stops watching the certificate files. */
  stop(): void;
}

/**
 * Reads and checks every security file (certificates, JWKS, policy) so that a bad one
 * stops start-up with a message naming its variable, and builds the layers.
 */
export function edgeSecurity(s: SecurityConfig, host: string, methods: readonly MethodName[], log: Logger): EdgeSecurity {
  let tls: RotatingServerCredentials | undefined;
  let policy: Policy | undefined;
  let jwt: JwtVerifier | undefined;
  try {
    tls = s.tls === undefined ? undefined : new RotatingServerCredentials(s.tls, log);
    policy = s.policyFile === undefined ? undefined : Policy.load(s.policyFile, methods);
    jwt = s.jwt === undefined ? undefined : new JwtVerifier(s.jwt);
  } catch (err) {
    // A bad file is a configuration problem: main prints the message alone and exits 2.
    throw new ConfigError((err as Error).message);
  }
  const interceptors: ServerInterceptor[] = [];
  if (s.authenticationOn && policy !== undefined) {
    interceptors.push(
      authenticationInterceptor({ mutualTls: s.tls?.clientCaFile !== undefined, jwt, policy, reflection: s.reflection, log }),
      authorizationInterceptor({ policy, reflection: s.reflection, log }),
    );
  }
  if (tls === undefined || !s.authenticationOn) {
    if (isLoopback(host)) log.info({ host }, 'plaintext or unauthenticated calls accepted: loopback address only (docs/security.md)');
    else log.warn({ host, tls: tls !== undefined, authentication: s.authenticationOn }, 'ALLOW_INSECURE=true: serving without TLS and authentication on a network address');
  }
  tls?.start();
  return {
    credentials: tls ?? ServerCredentials.createInsecure(),
    interceptors,
    reflection: s.reflection !== 'off',
    policy,
    stop: () => tls?.stop(),
  };
}
