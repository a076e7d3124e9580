import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { startTestApp, type TestApp } from '../support/app.js';
import { typescriptProgram } from '../support/readme.js';

const run = promisify(execFile);
const repo = process.cwd();
const clients = path.join(repo, 'clients');
const consumers = path.join(clients, 'consumers');

interface PackResult {
  filename: string;
  files: Array<{ path: string }>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;
const rootDev = readJson<{ devDependencies: Record<string, string> }>(path.join(repo, 'package.json')).devDependencies;
const clientPackage = readJson<{ version: string; peerDependencies: Record<string, string> }>(path.join(clients, 'package.json'));

/** The ends of the peer range that the tests install: its lower bound and the newest, the root's pin. */
const grpcRange = clientPackage.peerDependencies['@grpc/grpc-js']!;
const LOWEST_GRPC = /^>=(\d+\.\d+\.\d+) /.exec(grpcRange)?.[1];
const NEWEST_GRPC = readJson<{ dependencies: Record<string, string> }>(path.join(repo, 'package.json')).dependencies['@grpc/grpc-js']!;

/** npm with no prompts, no audit, and the local cache first (it holds what `npm ci` fetched). */
async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  return stdout;
}

/** Installs packages from the cache when it has them; one more try rides out a registry hiccup. */
async function install(cwd: string, packages: string[]): Promise<void> {
  const args = ['install', '--prefer-offline', '--ignore-scripts', '--no-package-lock', ...packages];
  await npm(args, cwd).catch(() => npm(args, cwd));
}

const STRICT = { strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, skipLibCheck: false } as const;

/** A consumer project: its package.json type, a strict tsconfig and the consumer source. */
function project(dir: string, type: 'module' | 'commonjs', compilerOptions: Record<string, unknown>, source: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: path.basename(dir), private: true, type }));
  const base = { target: 'ES2022', lib: ['ES2023'], types: ['node'], outDir: 'out', ...STRICT };
  writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...base, ...compilerOptions }, files: [source] }));
  copyFileSync(path.join(consumers, source), path.join(dir, source));
  return dir;
}

/**
 * Proof that what would be published works on its own, in every kind of project a team
 * might have: pack clients/, install the tarball outside the repository (one install shared
 * by the consumer projects below it, a second one with the lowest grpc-js of the peer
 * range), type-check each consumer with strict tsc (the package's .d.ts included) and run
 * it against a real server.
 */
describe('the packed client package (e2e)', function () {
  this.timeout(300_000);
  let t: TestApp;
  let work: string;
  let tarball: string;
  let pack: PackResult;
  let tsc: string;

  before(async () => {
    if (!existsSync(path.join(clients, 'dist', 'esm', 'index.js'))) throw new Error('clients/dist is missing: run `make client` first');
    if (LOWEST_GRPC === undefined) throw new Error(`peer range of @grpc/grpc-js must start with >=x.y.z; got ${grpcRange}`);
    work = mkdtempSync(path.join(tmpdir(), 'inventory-client-'));
    const packed = JSON.parse(await npm(['pack', '--json', '--pack-destination', work], clients)) as PackResult[];
    pack = packed[0]!;
    tarball = path.join(work, pack.filename);
    writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'consumers', private: true }));
    mkdirSync(path.join(work, 'low'));
    writeFileSync(path.join(work, 'low', 'package.json'), JSON.stringify({ name: 'low', private: true }));
    const [app] = await Promise.all([
      startTestApp(),
      install(work, [tarball, `@grpc/grpc-js@${NEWEST_GRPC}`, `typescript@${rootDev.typescript}`, `@types/node@${rootDev['@types/node']}`]),
    ]);
    t = app;
    // Below the shared install: resolves the client and the lowest grpc-js here, typescript and @types/node from above.
    await install(path.join(work, 'low'), [tarball, `@grpc/grpc-js@${LOWEST_GRPC}`]);
    tsc = path.join(work, 'node_modules', '.bin', 'tsc');
  });
  after(async () => {
    await t?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function typecheck(dir: string, args: string[] = []): Promise<void> {
    await run(tsc, ['-p', 'tsconfig.json', ...args], { cwd: dir }).catch((err: { stdout?: string }) => {
      throw new Error(`the consumer in ${path.basename(dir)} does not type-check against the package:\n${err.stdout ?? String(err)}`);
    });
  }

  async function runConsumer(cwd: string, script: string, name: string, nodeArgs: string[] = []): Promise<Record<string, unknown>> {
    const { stdout } = await run('node', [...nodeArgs, script], {
      cwd,
      env: { ...process.env, INVENTORY_ADDRESS: t.address, CONSUMER: name },
      timeout: 60_000,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  }

  const invalid = (field: string) => ({ code: 'INVALID_ARGUMENT', field });
  /** What every TypeScript consumer (clients/consumers/consumer.ts) prints. */
  const typescriptResult = {
    available: 10,
    json: true,
    fraction: invalid('quantity'),
    string: invalid('quantity'),
    negative: invalid('quantity'),
    badSku: invalid('sku'),
    notFound: 'NOT_FOUND',
    event: { type: 'StockReceived', positionType: 'number' },
    health: 'SERVING',
  };
  const javascriptResult = (version: string) => ({
    oneGrpc: true,
    grpcVersion: version,
    available: 3,
    fraction: invalid('quantity'),
    otherBuild: { instanceOf: false, isInventoryError: true },
    event: 'StockReceived',
  });

  it('contains both builds with their declarations, the README and the CHANGELOG, and nothing else', () => {
    const files = pack.files.map((f) => f.path);
    expect(files).to.include.members([
      'package.json',
      'README.md',
      'CHANGELOG.md',
      'dist/esm/index.js',
      'dist/esm/index.d.ts',
      'dist/cjs/index.js',
      'dist/cjs/index.d.ts',
      'dist/cjs/package.json',
      'dist/esm/gen/index.js',
      'dist/cjs/gen/index.js',
    ]);
    for (const f of files) expect(f, f).to.match(/^(package\.json|README\.md|CHANGELOG\.md|dist\/cjs\/package\.json|dist\/(esm|cjs)\/.*\.(js|d\.ts))$/);
  });

  it('an ES module TypeScript project (module nodenext) type-checks strictly and calls the server', async () => {
    const dir = project(path.join(work, 'esm-ts'), 'module', { module: 'nodenext', moduleResolution: 'nodenext' }, 'consumer.ts');
    await typecheck(dir);
    expect(await runConsumer(dir, 'out/consumer.js', 'ESM')).to.deep.equal(typescriptResult);
  });

  it('a CommonJS TypeScript project (module node16) type-checks strictly and calls the server through require()', async () => {
    const dir = project(path.join(work, 'cjs-ts'), 'commonjs', { module: 'node16', moduleResolution: 'node16' }, 'consumer.ts');
    await typecheck(dir);
    expect(readFileSync(path.join(dir, 'out', 'consumer.js'), 'utf8')).to.contain('require("@inventory-service/client")');
    // Without require(esm), as on Node 20.0-20.18: only the CommonJS build can load.
    expect(await runConsumer(dir, 'out/consumer.js', 'CJS', ['--no-experimental-require-module'])).to.deep.equal(typescriptResult);
  });

  it('a plain JavaScript project loads it with require() and uses its own grpc-js', async () => {
    const dir = path.join(work, 'cjs-js');
    mkdirSync(dir);
    copyFileSync(path.join(consumers, 'consumer.cjs'), path.join(dir, 'consumer.cjs'));
    expect(await runConsumer(dir, 'consumer.cjs', 'JS', ['--no-experimental-require-module'])).to.deep.equal(javascriptResult(NEWEST_GRPC));
  });

  it('an esbuild bundle (type-checked with bundler resolution) runs on its own, with no node_modules', async () => {
    const dir = project(path.join(work, 'bundle'), 'module', { module: 'preserve', moduleResolution: 'bundler', noEmit: true }, 'consumer.ts');
    await typecheck(dir);
    const esbuild = path.join(repo, 'node_modules', '.bin', 'esbuild');
    await run(esbuild, ['consumer.ts', '--bundle', '--platform=node', '--format=cjs', '--target=node20', '--log-level=error', '--outfile=bundle.cjs'], { cwd: dir });
    const alone = mkdtempSync(path.join(tmpdir(), 'inventory-bundle-'));
    try {
      copyFileSync(path.join(dir, 'bundle.cjs'), path.join(alone, 'bundle.cjs'));
      expect(await runConsumer(alone, 'bundle.cjs', 'BUNDLE')).to.deep.equal(typescriptResult);
    } finally {
      rmSync(alone, { recursive: true, force: true });
    }
  });

  it('the TypeScript examples of clients/README.md compile strictly and run, in order, against a fresh server', async () => {
    const { source, blocks } = typescriptProgram(readFileSync(path.join(clients, 'README.md'), 'utf8'));
    expect(blocks).to.be.greaterThan(10);
    const dir = path.join(work, 'readme');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'readme.ts'), source);
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'readme', private: true, type: 'module' }));
    const compilerOptions = { target: 'ES2022', lib: ['ES2023', 'DOM'], types: ['node'], outDir: 'out', module: 'nodenext', moduleResolution: 'nodenext', ...STRICT };
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['readme.ts'] }));
    await typecheck(dir);
    const fresh = await startTestApp();
    try {
      const { stdout } = await run('node', ['out/readme.js'], { cwd: dir, env: { ...process.env, INVENTORY_ADDRESS: fresh.address }, timeout: 60_000 });
      // A few of the outputs the README's comments promise.
      expect(stdout).to.contain('only 100 of 500 SKU-1 available');
      expect(stdout).to.contain('197 20');
      expect(stdout).to.contain('SKU-9 NOT_FOUND');
      expect(stdout).to.contain('quantity quantity: must be an integer; got 2.5');
      expect(stdout).to.contain('217 2');
      expect(stdout).to.contain('Blue mug');
      expect(stdout).to.contain("[ 'SKU-1@BER-1x2', 'SKU-2@HAM-1x1' ]");
      expect(stdout).to.contain('held 2');
      expect(stdout).to.not.contain('false');
    } finally {
      await fresh.stop();
    }
  });

  it(`works with the lowest grpc-js of the peer range (${grpcRange}): strict type-check, credentials and Metadata`, async () => {
    const low = path.join(work, 'low');
    const dir = project(path.join(low, 'esm-ts'), 'module', { module: 'nodenext', moduleResolution: 'nodenext' }, 'consumer.ts');
    await typecheck(dir);
    expect(await runConsumer(dir, 'out/consumer.js', 'LOW')).to.deep.equal(typescriptResult);
    copyFileSync(path.join(consumers, 'consumer.cjs'), path.join(low, 'consumer.cjs'));
    expect(await runConsumer(low, 'consumer.cjs', 'LOWJS', ['--no-experimental-require-module'])).to.deep.equal(javascriptResult(LOWEST_GRPC!));
  });
});
