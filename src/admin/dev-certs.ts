import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DevCa } from './certs.js';

/** The identities `make dev-certs` issues client certificates for, and the role each gets. */
export const DEV_IDENTITIES = [
  { name: 'reader', cn: 'reader', san: 'URI:spiffe://inventory.dev/ns/shop/sa/storefront', role: 'reader' },
  { name: 'allocator', cn: 'checkout', san: 'URI:spiffe://inventory.dev/ns/orders/sa/checkout', role: 'allocator' },
  { name: 'stock-keeper', cn: 'receiving', san: 'URI:spiffe://inventory.dev/ns/warehouse/sa/receiving', role: 'stock-keeper' },
  { name: 'catalog-admin', cn: 'catalog', san: 'DNS:catalog.inventory.dev', role: 'catalog-admin' },
  { name: 'auditor', cn: 'auditor', san: 'DNS:auditor.inventory.dev', role: 'auditor' },
  { name: 'admin', cn: 'ops-admin', san: undefined, role: 'admin' },
] as const;

const POLICY = `# Who may call what (docs/security.md). Identities are exact, or globs:
# * stays within one /-separated segment, ** crosses segments.
identities:
  - identity: spiffe://inventory.dev/ns/shop/sa/storefront
    roles: [reader]
  # every workload of the orders namespace
  - identity: spiffe://inventory.dev/ns/orders/**
    roles: [allocator]
  - identity: spiffe://inventory.dev/ns/warehouse/sa/receiving
    roles: [stock-keeper, replenisher]
  - identity: catalog.inventory.dev
    roles: [catalog-admin]
  - identity: auditor.inventory.dev
    roles: [auditor]
  - identity: ops-admin
    roles: [admin]
# Roles beyond the built-in ones: fully qualified method names.
roles:
  replenisher:
    - inventory.v1.InventoryService/ListLowStock
    - inventory.v1.InventoryService/ReceiveStock
`;

/**
 * \`make dev-certs\`: a development CA, a server certificate for localhost/127.0.0.1, a
 * client certificate per identity above, and a sample policy, in DATA_DIR/certs
 * (replacing what was there).
 */
async function main(): Promise<void> {
  const dir = path.resolve(process.env.DATA_DIR ?? '.data', 'certs');
  await rm(dir, { recursive: true, force: true });
  const ca = await DevCa.create(path.join(dir, 'ca'));
  await ca.issue({ name: 'server', cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'], outDir: dir });
  for (const id of DEV_IDENTITIES) await ca.issue({ name: id.name, cn: id.cn, sans: id.san === undefined ? [] : [id.san], outDir: dir });
  await writeFile(path.join(dir, 'ca.crt'), await ca.pem());
  await writeFile(path.join(dir, 'policy.yaml'), POLICY);
  process.stdout.write(
    [
      `development certificates in ${dir}:`,
      `  ca.crt                                the CA (trust it in clients; TLS_CLIENT_CA_FILE for mutual TLS)`,
      `  server.crt, server.key                localhost, 127.0.0.1, ::1`,
      ...DEV_IDENTITIES.map((id) => `  ${`${id.name}.crt, ${id.name}.key`.padEnd(38)}${(id.san ?? `CN=${id.cn}`).replace(/^(URI|DNS):/, '')} (${id.role})`),
      `  policy.yaml                           AUTH_POLICY_FILE`,
      `start with mutual TLS:`,
      `  TLS_CERT_FILE=${dir}/server.crt TLS_KEY_FILE=${dir}/server.key TLS_CLIENT_CA_FILE=${dir}/ca.crt AUTH_POLICY_FILE=${dir}/policy.yaml make run`,
      '',
    ].join('\n'),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`dev-certs failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
