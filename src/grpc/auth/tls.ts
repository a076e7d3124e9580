import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from '../../log.js';
import type { SecurityConfig } from '../../security-config.js';

export type TlsSettings = NonNullable<SecurityConfig['tls']>;

/** A certificate file that cannot serve: start-up stops with it, a rotation keeps the old files. */
export class TlsFileError extends Error {
  override name = 'TlsFileError';
}

const MIN_VERSION = 'TLSv1.2' as const;

function read(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new TlsFileError(`${variable}=${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function certificate(variable: string, file: string, pem: Buffer): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new TlsFileError(`${variable}=${file}: not a PEM certificate`);
  }
}

interface Loaded {
  readonly options: SecureContextOptions;
  readonly fingerprint: string;
  readonly notAfter: Date;
}

/**
 * Reads and checks the certificate files: readable, PEM, the key belongs to the
 * certificate, and the certificate is valid now. Every message names the variable.
 */
export function loadTlsFiles(s: TlsSettings, now: Date): Loaded {
  const certPem = read('TLS_CERT_FILE', s.certFile);
  const keyPem = read('TLS_KEY_FILE', s.keyFile);
  const caPem = s.clientCaFile === undefined ? undefined : read('TLS_CLIENT_CA_FILE', s.clientCaFile);
  // The first certificate of the chain is the server's own.
  const cert = certificate('TLS_CERT_FILE', s.certFile, certPem);
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new TlsFileError(`TLS_KEY_FILE=${s.keyFile}: not a PEM private key`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new TlsFileError(`TLS_KEY_FILE=${s.keyFile} does not match the certificate in TLS_CERT_FILE=${s.certFile}`);
  }
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  if (notAfter.getTime() <= now.getTime()) {
    throw new TlsFileError(`TLS_CERT_FILE=${s.certFile}: the certificate expired at ${notAfter.toISOString()}`);
  }
  if (notBefore.getTime() > now.getTime()) {
    throw new TlsFileError(`TLS_CERT_FILE=${s.certFile}: the certificate is not valid before ${notBefore.toISOString()}`);
  }
  if (caPem !== undefined) certificate('TLS_CLIENT_CA_FILE', s.clientCaFile!, caPem);
  const fingerprint = createHash('sha256')
    .update(certPem)
    .update(keyPem)
    .update(caPem ?? '')
    .digest('hex');
  return {
    options: { cert: certPem, key: keyPem, ...(caPem !== undefined ? { ca: caPem } : {}), minVersion: MIN_VERSION },
    fingerprint,
    notAfter,
  };
}

/**
 * grpc-js server credentials whose certificates rotate without a restart. The files are
 * re-read every `reloadIntervalMs` (polling, because cert-manager and SPIFFE agents
 * replace files by renaming symlinks, which file watchers miss); a changed set that
 * passes the checks is handed to grpc-js, which calls `setSecureContext` on its HTTP/2
 * server: new connections get it, open connections and their calls go on untouched.
 * A set that fails the checks (for example caught half-written) is logged and skipped;
 * the previous certificates keep serving.
 */
export class RotatingServerCredentials extends ServerCredentials {
  private timer: NodeJS.Timeout | undefined;
  private fingerprint: string;

  constructor(
    private readonly settings: TlsSettings,
    private readonly log: Logger,
    private readonly clock: () => Date = () => new Date(),
  ) {
    const first = loadTlsFiles(settings, clock());
    const mutual = settings.clientCaFile !== undefined;
    super({ requestCert: mutual, rejectUnauthorized: mutual, minVersion: MIN_VERSION }, first.options);
    this.fingerprint = first.fingerprint;
    log.info({ mutualTls: mutual, certificateExpires: first.notAfter.toISOString() }, 'TLS on');
  }

  /** Starts polling the files. */
  start(): void {
    this.timer ??= setInterval(() => this.reload(), this.settings.reloadIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Re-reads the files now; true when new certificates were installed. */
  reload(): boolean {
    let loaded: Loaded;
    try {
      loaded = loadTlsFiles(this.settings, this.clock());
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'TLS files changed but cannot serve; keeping the previous certificates');
      return false;
    }
    if (loaded.fingerprint === this.fingerprint) return false;
    this.fingerprint = loaded.fingerprint;
    this.updateSecureContextOptions(loaded.options);
    this.log.info({ certificateExpires: loaded.notAfter.toISOString() }, 'TLS certificates reloaded');
    return true;
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}
