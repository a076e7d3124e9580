import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A small certificate authority on top of the openssl CLI (`openssl req` and `openssl ca`,
 * which can set any validity period): for `make dev-certs` and for the tests that need
 * expired, not-yet-valid or foreign certificates. Keys are EC P-256.
 */
export class DevCa {
  private constructor(
    readonly dir: string,
    readonly certFile: string,
    readonly keyFile: string,
  ) {}

  /** Creates a CA (self-signed, ten years) in `dir`. */
  static async create(dir: string, name = 'Inventory Dev CA'): Promise<DevCa> {
    await mkdir(path.join(dir, 'newcerts'), { recursive: true });
    const certFile = path.join(dir, 'ca.crt');
    const keyFile = path.join(dir, 'ca.key');
    await openssl([
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', keyFile, '-out', certFile, '-days', '3650', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await writeFile(path.join(dir, 'index.txt'), '');
    return new DevCa(dir, certFile, keyFile);
  }

  /**
   * Issues a certificate for `name` (files `<name>.crt` and `<name>.key` in `outDir`,
   * default the CA's directory) with the given subject CN and SANs (`URI:…`, `DNS:…`,
   * `IP:…`). Valid from `notBefore` (default: an hour ago) to `notAfter` (default: in 825 days).
   */
  async issue(o: {
    name: string;
    cn: string;
    sans?: readonly string[];
    notBefore?: Date;
    notAfter?: Date;
    outDir?: string;
  }): Promise<{ certFile: string; keyFile: string }> {
    const out = o.outDir ?? this.dir;
    await mkdir(out, { recursive: true });
    const keyFile = path.join(out, `${o.name}.key`);
    const certFile = path.join(out, `${o.name}.crt`);
    const csr = path.join(this.dir, `${o.name}.csr`);
    const cnf = path.join(this.dir, `${o.name}.cnf`);
    const d = this.dir;
    await writeFile(
      cnf,
      [
        '[ ca ]', 'default_ca = dev', '[ dev ]',
        `database = ${d}/index.txt`, `new_certs_dir = ${d}/newcerts`, `serial = ${d}/serial`,
        'default_md = sha256', 'policy = any', 'unique_subject = no', 'email_in_dn = no',
        '[ any ]', 'commonName = supplied',
        '[ ext ]', 'basicConstraints = CA:FALSE', 'keyUsage = critical, digitalSignature, keyEncipherment',
        'extendedKeyUsage = serverAuth, clientAuth',
        ...(o.sans !== undefined && o.sans.length > 0 ? [`subjectAltName = ${o.sans.join(', ')}`] : []),
        '',
      ].join('\n'),
    );
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', `/CN=${o.cn}`]);
    const notBefore = o.notBefore ?? new Date(Date.now() - 3600_000);
    const notAfter = o.notAfter ?? new Date(Date.now() + 825 * 86_400_000);
    await openssl([
      'ca', '-batch', '-config', cnf, '-extensions', 'ext', '-in', csr, '-out', certFile,
      '-cert', this.certFile, '-keyfile', this.keyFile, '-notext', '-create_serial',
      '-startdate', asn1Time(notBefore), '-enddate', asn1Time(notAfter),
    ]);
    return { certFile, keyFile };
  }

  async pem(): Promise<Buffer> {
    return readFile(this.certFile);
  }
}

/** `YYYYMMDDHHMMSSZ`, what `openssl ca -startdate` takes. */
const asn1Time = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', [...args], { maxBuffer: 1 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string; code?: string };
    if (e.code === 'ENOENT') throw new Error('the openssl command is needed (apt-get install openssl)');
    throw new Error(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}
