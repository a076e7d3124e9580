import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { credentials, Metadata, type ChannelCredentials, type Client } from '@grpc/grpc-js';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { DevCa } from '../../src/admin/certs.js';
import { promiseClient, type PromiseClient } from './app.js';
import { InventoryServiceClient, type InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { readFile } from 'node:fs/promises';

export interface CertFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** A CA with a server certificate for 127.0.0.1/localhost, in a fresh temporary directory. */
export class TestPki {
  private constructor(
    readonly dir: string,
    readonly ca: DevCa,
    readonly server: CertFiles,
  ) {}

  static async create(): Promise<TestPki> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-pki-'));
    const ca = await DevCa.create(path.join(dir, 'ca'));
    const server = await ca.issue({ name: 'server', cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'], outDir: dir });
    return new TestPki(dir, ca, server);
  }

  /** A client certificate; `san` like `URI:spiffe://…` or `DNS:…`. */
  client(name: string, o: { san?: string; cn?: string; notBefore?: Date; notAfter?: Date } = {}): Promise<CertFiles> {
    return this.ca.issue({ name, cn: o.cn ?? name, sans: o.san === undefined ? [] : [o.san], outDir: this.dir, ...pick(o) });
  }

  /** TLS_* variables: TLS, and mutual TLS unless `mutual` is false. */
  env(mutual = true): Record<string, string> {
    return {
      TLS_CERT_FILE: this.server.certFile,
      TLS_KEY_FILE: this.server.keyFile,
      ...(mutual ? { TLS_CLIENT_CA_FILE: this.ca.certFile } : {}),
    };
  }

  /** Channel credentials trusting this CA, with a client certificate when given. */
  async credentials(client?: CertFiles): Promise<ChannelCredentials> {
    const ca = await this.ca.pem();
    if (client === undefined) return credentials.createSsl(ca);
    return credentials.createSsl(ca, await readFile(client.keyFile), await readFile(client.certFile));
  }

  async inventory(address: string, client?: CertFiles): Promise<{ raw: InventoryServiceClient; client: PromiseClient<InventoryServiceServer> }> {
    const raw = new InventoryServiceClient(address, await this.credentials(client), { 'grpc.ssl_target_name_override': 'localhost' });
    return { raw, client: promiseClient<InventoryServiceServer>(raw) };
  }
}

const pick = (o: { notBefore?: Date; notAfter?: Date }) => ({
  ...(o.notBefore !== undefined ? { notBefore: o.notBefore } : {}),
  ...(o.notAfter !== undefined ? { notAfter: o.notAfter } : {}),
});

/** Writes a policy file; returns its path. */
export async function writePolicy(dir: string, doc: unknown, name = 'policy.json'): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, JSON.stringify(doc, null, 2));
  return file;
}

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'inventory';

/** An ES256 key pair published as a JWKS file, and a signer for test tokens. */
export class TestJwks {
  private constructor(
    readonly file: string,
    private readonly key: CryptoKey,
    readonly kid: string,
  ) {}

  static async create(dir: string, kid = 'k1'): Promise<TestJwks> {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    const file = path.join(dir, `jwks-${kid}.json`);
    await writeFile(file, JSON.stringify({ keys: [jwk] }));
    return new TestJwks(file, privateKey, kid);
  }

  env(): Record<string, string> {
    return { AUTH_JWT_JWKS: this.file, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE };
  }

  /** A token for `sub`, valid for five minutes unless the claims say otherwise. */
  sign(sub: string, claims: JWTPayload = {}, o: { issuer?: string; audience?: string; expiresAt?: number; notBefore?: number; kid?: string } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: o.kid ?? this.kid })
      .setSubject(sub)
      .setIssuer(o.issuer ?? ISSUER)
      .setAudience(o.audience ?? AUDIENCE)
      .setIssuedAt(now)
      .setNotBefore(o.notBefore ?? now)
      .setExpirationTime(o.expiresAt ?? now + 300)
      .sign(this.key);
  }
}

export function bearer(token: string): Metadata {
  const m = new Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
}

export function closeAll(...clients: Array<Client | undefined>): void {
  for (const c of clients) c?.close();
}
