import { readFileSync, statSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { SecurityConfig } from '../../security-config.js';

export type JwtSettings = NonNullable<SecurityConfig['jwt']>;

/** Why a call has no identity: the message the caller gets with UNAUTHENTICATED. */
export class Unauthenticated extends Error {
  override name = 'Unauthenticated';
}

/** The JWKS URL did not answer: the call gets UNAVAILABLE. */
export class KeySetUnavailable extends Error {
  override name = 'KeySetUnavailable';
}

/** `URI:spiffe://a, DNS:b` with entries that hold commas JSON-quoted (Node's subjectaltname format). */
function subjectAltNames(san: string | undefined): Array<{ kind: string; value: string }> {
  if (san === undefined || san === '') return [];
  const out: Array<{ kind: string; value: string }> = [];
  for (const m of san.matchAll(/([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    const raw = m[2] ?? '';
    out.push({ kind: (m[1] ?? '').trim(), value: raw.startsWith('"') ? (JSON.parse(raw) as string) : raw });
  }
  return out;
}

/**
 * The identity a verified client certificate proves: its URI SAN (a SPIFFE id), else its
 * first DNS SAN, else its subject CN; undefined when it has none of them.
 */
export function certificateIdentity(peer: PeerCertificate): string | undefined {
  const sans = subjectAltNames(peer.subjectaltname);
  const uri = sans.find((s) => s.kind === 'URI')?.value;
  if (uri !== undefined && uri !== '') return uri;
  const dns = sans.find((s) => s.kind === 'DNS')?.value;
  if (dns !== undefined && dns !== '') return dns;
  const cn = peer.subject?.CN;
  const first = Array.isArray(cn) ? cn[0] : cn;
  return first === undefined || first === '' ? undefined : first;
}

/** The keys of a JWKS file, re-read when the file changes (a rotation adds a key). */
function fileKeys(file: string): JWTVerifyGetKey {
  let mtimeMs = -1;
  let keys: JWTVerifyGetKey | undefined;
  const load = () => {
    const m = statSync(file).mtimeMs;
    if (keys === undefined || m !== mtimeMs) {
      keys = createLocalJWKSet(JSON.parse(readFileSync(file, 'utf8')) as JSONWebKeySet);
      mtimeMs = m;
    }
    return keys;
  };
  load(); // a broken file stops start-up, not the first call
  return (header, token) => load()(header, token);
}

/**
 * Verifies bearer JWTs with `jose`: signature against the JWKS (a file, or a URL that jose
 * caches and refreshes when it meets an unknown key id), the allow-listed algorithms only,
 * the required `iss` and `aud`, `exp`/`nbf` with the configured clock skew.
 */
export class JwtVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(private readonly s: JwtSettings) {
    try {
      this.keys = /^https?:\/\//i.test(s.jwks) ? createRemoteJWKSet(new URL(s.jwks), { cacheMaxAge: 10 * 60_000 }) : fileKeys(s.jwks);
    } catch (err) {
      throw new Error(`AUTH_JWT_JWKS=${s.jwks}: not a readable JWKS (${(err as Error).message})`);
    }
  }

  /** The identity claim of a valid token; throws Unauthenticated saying what is wrong. */
  async identityOf(token: string): Promise<string> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.s.issuer,
        audience: this.s.audience,
        algorithms: [...this.s.algorithms],
        clockTolerance: this.s.clockSkewSeconds,
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      // The key set could not be fetched: a dependency failure, not the caller's.
      if (err instanceof joseErrors.JWKSTimeout || !(err instanceof joseErrors.JOSEError)) {
        throw new KeySetUnavailable(`the JWKS could not be fetched to verify the bearer token; retry later`);
      }
      throw new Unauthenticated(`the bearer token is not valid: ${reason(err)}`);
    }
    const id = payload[this.s.identityClaim];
    if (typeof id !== 'string' || id === '') throw new Unauthenticated(`the bearer token has no ${this.s.identityClaim} claim`);
    return id;
  }
}

/** What went wrong, in words that tell the caller what to fix and reveal nothing of the keys. */
function reason(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'it has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'it is not valid yet';
    if (err.claim === 'iss') return 'it is for another issuer';
    if (err.claim === 'aud') return 'it is for another audience';
    return `claim ${err.claim} is not acceptable`;
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'its algorithm is not allowed';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no key of the key set matches it';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'it is malformed';
  return 'it could not be verified';
}
