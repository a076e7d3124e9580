import { z } from 'zod';

/**
 * Transport security and caller authentication settings (docs/security.md). Parsed with
 * the rest of the configuration; file contents are read and checked later, at start-up.
 */
export interface SecurityConfig {
  /** Undefined: plaintext. */
  readonly tls:
    | {
        readonly certFile: string;
        readonly keyFile: string;
        /** Set: mutual TLS, a client certificate signed by this CA is required. */
        readonly clientCaFile: string | undefined;
        /** How often the files are re-read to pick up a rotation. */
        readonly reloadIntervalMs: number;
      }
    | undefined;
  /** Undefined: no bearer tokens. */
  readonly jwt:
    | {
        /** A JWKS file path, or an https:// (http:// for loopback) URL. */
        readonly jwks: string;
        readonly issuer: string;
        readonly audience: string;
        readonly algorithms: readonly string[];
        readonly identityClaim: string;
        readonly clockSkewSeconds: number;
      }
    | undefined;
  /** Required when authentication is on. */
  readonly policyFile: string | undefined;
  readonly reflection: 'open' | 'authenticated' | 'off';
  readonly allowInsecure: boolean;
  /** True when callers are identified (mutual TLS or JWT). */
  readonly authenticationOn: boolean;
}

/** Asymmetric algorithms only: with public keys in a JWKS, HMAC would let anyone holding the JWKS sign. */
export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export const securitySchema = z.object({
  TLS_CERT_FILE: optional,
  TLS_KEY_FILE: optional,
  TLS_CLIENT_CA_FILE: optional,
  TLS_RELOAD_INTERVAL_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
  AUTH_JWT_JWKS: optional,
  AUTH_JWT_ISSUER: optional,
  AUTH_JWT_AUDIENCE: optional,
  AUTH_JWT_ALGORITHMS: z
    .string()
    .default('RS256,ES256,EdDSA')
    .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s !== ''))
    .refine((algs) => algs.length > 0 && algs.every((a) => (JWT_ALGORITHMS as readonly string[]).includes(a)), {
      message: `must be a comma-separated list of ${JWT_ALGORITHMS.join(', ')} (never none, never HMAC)`,
    }),
  AUTH_JWT_IDENTITY_CLAIM: z.string().min(1).default('sub'),
  AUTH_JWT_CLOCK_SKEW_S: z.coerce.number().int().min(0).max(300).default(30),
  AUTH_POLICY_FILE: optional,
  REFLECTION: z.enum(['open', 'authenticated', 'off']).default('open'),
  ALLOW_INSECURE: z.enum(['true', 'false', '']).default('false'),
});

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/i;

export const isLoopback = (host: string): boolean => LOOPBACK.test(host);

/** The cross-variable rules; returns the problem, or undefined. */
export function securityConfigOf(e: z.infer<typeof securitySchema>, host: string): SecurityConfig | string {
  if ((e.TLS_CERT_FILE === undefined) !== (e.TLS_KEY_FILE === undefined)) return 'TLS_CERT_FILE and TLS_KEY_FILE go together: set both or neither';
  if (e.TLS_CLIENT_CA_FILE !== undefined && e.TLS_CERT_FILE === undefined) return 'TLS_CLIENT_CA_FILE (mutual TLS) needs TLS_CERT_FILE and TLS_KEY_FILE';
  const jwtVars = { AUTH_JWT_JWKS: e.AUTH_JWT_JWKS, AUTH_JWT_ISSUER: e.AUTH_JWT_ISSUER, AUTH_JWT_AUDIENCE: e.AUTH_JWT_AUDIENCE };
  const jwtSet = Object.entries(jwtVars).filter(([, v]) => v !== undefined);
  if (jwtSet.length > 0 && jwtSet.length < 3) {
    const missing = Object.entries(jwtVars).filter(([, v]) => v === undefined).map(([k]) => k);
    return `JWT authentication needs AUTH_JWT_JWKS, AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE; missing ${missing.join(', ')}`;
  }
  if (e.AUTH_JWT_JWKS !== undefined && /^http:\/\//i.test(e.AUTH_JWT_JWKS)) {
    const h = new URL(e.AUTH_JWT_JWKS).hostname;
    if (!isLoopback(h)) return 'AUTH_JWT_JWKS: a JWKS URL must be https:// (http:// only for a loopback address)';
  }
  const tls =
    e.TLS_CERT_FILE !== undefined && e.TLS_KEY_FILE !== undefined
      ? { certFile: e.TLS_CERT_FILE, keyFile: e.TLS_KEY_FILE, clientCaFile: e.TLS_CLIENT_CA_FILE, reloadIntervalMs: e.TLS_RELOAD_INTERVAL_MS }
      : undefined;
  const jwt =
    e.AUTH_JWT_JWKS !== undefined && e.AUTH_JWT_ISSUER !== undefined && e.AUTH_JWT_AUDIENCE !== undefined
      ? {
          jwks: e.AUTH_JWT_JWKS,
          issuer: e.AUTH_JWT_ISSUER,
          audience: e.AUTH_JWT_AUDIENCE,
          algorithms: e.AUTH_JWT_ALGORITHMS,
          identityClaim: e.AUTH_JWT_IDENTITY_CLAIM,
          clockSkewSeconds: e.AUTH_JWT_CLOCK_SKEW_S,
        }
      : undefined;
  const authenticationOn = tls?.clientCaFile !== undefined || jwt !== undefined;
  if (authenticationOn && e.AUTH_POLICY_FILE === undefined) return 'authentication is on (TLS_CLIENT_CA_FILE or AUTH_JWT_*) but AUTH_POLICY_FILE is not set: who may call what?';
  if (!authenticationOn && e.AUTH_POLICY_FILE !== undefined) return 'AUTH_POLICY_FILE is set but no caller is identified: set TLS_CLIENT_CA_FILE (mutual TLS) or AUTH_JWT_*';
  if (e.REFLECTION === 'authenticated' && !authenticationOn) return 'REFLECTION=authenticated needs authentication (TLS_CLIENT_CA_FILE or AUTH_JWT_*)';
  const allowInsecure = e.ALLOW_INSECURE === 'true';
  if (!isLoopback(host) && (tls === undefined || !authenticationOn) && !allowInsecure) {
    const lacking = [tls === undefined ? 'TLS (TLS_CERT_FILE, TLS_KEY_FILE)' : '', !authenticationOn ? 'authentication (TLS_CLIENT_CA_FILE or AUTH_JWT_*, with AUTH_POLICY_FILE)' : '']
      .filter((s) => s !== '')
      .join(' and ');
    return `GRPC_HOST=${host} is not a loopback address, and the server has no ${lacking}; refusing to serve plaintext or anonymous calls to the network. Set them, or ALLOW_INSECURE=true when a sidecar terminates mutual TLS`;
  }
  return { tls, jwt, policyFile: e.AUTH_POLICY_FILE, reflection: e.REFLECTION, allowInsecure, authenticationOn };
}
