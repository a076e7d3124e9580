import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { startTestApp, type TestApp } from '../support/app.js';

const run = promisify(execFile);
const repo = process.cwd();
const clients = path.join(repo, 'clients');

interface PackResult {
  filename: string;
  files: Array<{ path: string }>;
}

/** npm with no prompts, no audit, and the local cache first (it holds what `npm ci` fetched). */
async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  return stdout;
}

/**
 * Proof that what would be published works on its own: pack clients/, install the tarball
 * into a fresh project outside the repository, type-check a consumer against it with strict
 * tsc (the package's .d.ts included), and run the consumer against a real server.
 */
describe('the packed client package (e2e)', function () {
  this.timeout(300_000);
  let t: TestApp;
  let work: string;
  let tarball: string;
  let pack: PackResult;

  before(async () => {
    if (!existsSync(path.join(clients, 'dist', 'index.js'))) throw new Error('clients/dist is missing: run `make client` first');
    work = mkdtempSync(path.join(tmpdir(), 'inventory-client-'));
    const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', work], clients)) as PackResult[];
    pack = packed[0]!;
    tarball = path.join(work, pack.filename);
    t = await startTestApp();
  });
  after(async () => {
    await t?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('contains the built JavaScript, the declarations and the README, and nothing else', () => {
    const files = pack.files.map((f) => f.path);
    expect(files).to.include.members(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/gen/index.js', 'dist/gen/index.d.ts']);
    for (const f of files) expect(f, f).to.match(/^(package\.json|README\.md|dist\/.*\.(js|d\.ts))$/);
  });

  it('installs into a fresh project, type-checks a strict consumer and runs it against the server', async () => {
    const project = path.join(work, 'consumer');
    await run('mkdir', ['-p', project]);
    for (const f of ['package.json', 'tsconfig.json', 'consumer.ts']) copyFileSync(path.join(clients, 'smoke', f), path.join(project, f));
    const root = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const install = [
      'install',
      '--prefer-offline',
      '--ignore-scripts',
      tarball,
      `typescript@${root.devDependencies.typescript}`,
      `@types/node@${root.devDependencies['@types/node']}`,
    ];
    // Dependencies come from the npm cache when it has them, else the registry: one more try
    // rides out a registry hiccup.
    await npm(install, project).catch(() => npm(install, project));
    const installed = JSON.parse(readFileSync(path.join(project, 'node_modules', '@inventory-service', 'client', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(installed.version).to.equal((JSON.parse(readFileSync(path.join(clients, 'package.json'), 'utf8')) as { version: string }).version);

    await run(path.join(project, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: project }).catch((err: { stdout?: string }) => {
      throw new Error(`the consumer does not type-check against the package:\n${err.stdout ?? String(err)}`);
    });

    const { stdout } = await run('node', ['out/consumer.js'], { cwd: project, env: { ...process.env, INVENTORY_ADDRESS: t.address }, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).to.deep.equal({
      warehouseVersion: '1',
      itemName: 'Smoke test item',
      warehouses: ['SMOKE-1'],
      notFound: { code: 'NOT_FOUND', reason: 'NOT_FOUND' },
      invalid: { field: 'sku', message: (await invalidSkuMessage()) },
      health: 'SERVING',
    });
  });

  /** The server's own wording for the bad sku, read back through the raw test client. */
  async function invalidSkuMessage(): Promise<string> {
    try {
      await t.client.createItem({ sku: 'bad sku!', name: 'x' });
    } catch (err) {
      return (err as { details: string }).details;
    }
    throw new Error('expected INVALID_ARGUMENT');
  }
});
