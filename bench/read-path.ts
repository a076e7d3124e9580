import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { EmbeddedDynamo } from '../src/embedded/dynamodb.js';
import { EmbeddedPostgres } from '../src/embedded/postgres.js';
import { InventoryServiceClient } from '../src/gen/inventory/v1/inventory_service.js';
import { createLogger } from '../src/log.js';
import { BATCH_SKUS, ITEM, ON_HAND, WAREHOUSE } from './fixtures.js';
import { freePort, stopChild, waitServing } from './processes.js';
import { runLoad, type LoadResult } from './load.js';

/**
 * The read-path benchmark (run by hand: `make bench`). Measures, in one run on this
 * machine, the bare grpc-js ceiling (bench/echo-server.ts) and the real service's cached
 * reads, each in its own process, driven by one client process with IN_FLIGHT calls in
 * flight. Prints throughput, p50/p99 and the ratio to the ceiling.
 *
 * Environment: BENCH_SECONDS (default 3), BENCH_ROUNDS (default 3), BENCH_IN_FLIGHT (default 64); DATABASE_URL and
 * DYNAMODB_ENDPOINT to use running servers instead of embedded ones; BENCH_SERVICE_NODE_ARGS
 * for the service process (profiling). BENCH_BASELINE_MAIN: the dist/src/main.js of another
 * build (say, main's, in a git worktree) run as a third target against the same databases,
 * each round measuring it right after this build, so the ratio this build / baseline is
 * taken within one run. BENCH_SERVICE_ENV: extra KEY=VALUE pairs (space-separated) for
 * this build's service, e.g. `METRICS_PORT=0` or an OTEL_EXPORTER_OTLP_ENDPOINT.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const log = createLogger('warn');

function unary<Req, Res>(
  method: (req: Req, callback: (err: ServiceError | null, res: Res) => void) => unknown,
): (req: Req) => Promise<Res> {
  return (req) => new Promise((resolve, reject) => method(req, (err, res) => (err ? reject(err) : resolve(res))));
}


async function main(): Promise<void> {
  const cleanups: Array<() => Promise<void>> = [];
  try {
    let databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl) {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-bench-'));
      await chmod(dir, 0o755);
      const pg = new EmbeddedPostgres({ dataDir: path.join(dir, 'data'), port: await freePort(), database: 'inventory', log });
      await pg.start();
      cleanups.push(async () => {
        await pg.stop();
        await rm(dir, { recursive: true, force: true });
      });
      databaseUrl = pg.url;
    }
    let dynamoEndpoint = process.env.DYNAMODB_ENDPOINT;
    if (!dynamoEndpoint) {
      const dynamo = new EmbeddedDynamo({ dataDir: undefined, port: 0, log });
      await dynamo.start();
      cleanups.push(() => dynamo.stop());
      dynamoEndpoint = dynamo.endpoint;
    }

    // BENCH_SERVICE_NODE_ARGS, for example `--cpu-prof --cpu-prof-dir=/tmp/prof`, to see where the service spends its time.
    const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const table = `bench-${Date.now()}`;
    const startService = async (mainJs: string, extraEnv: Record<string, string>) => {
      const port = await freePort();
      const child = spawn(process.execPath, [...nodeArgs, mainJs], {
        env: {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: databaseUrl,
          DYNAMODB_ENDPOINT: dynamoEndpoint,
          EVENTS_TABLE: table,
          GRPC_PORT: String(port),
          LOG_LEVEL: 'warn',
          CACHE_STATS_INTERVAL_MS: '0',
          ...extraEnv,
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      cleanups.push(() => stopChild(child));
      const address = `127.0.0.1:${port}`;
      await waitServing(address, 60_000);
      return { child, address };
    };
    // The baseline first: an older build must not meet migrations it does not know at start-up.
    const baselineMain = process.env.BENCH_BASELINE_MAIN;
    const baseline = baselineMain ? await startService(path.resolve(baselineMain), {}) : undefined;
    const serviceEnv = Object.fromEntries(
      (process.env.BENCH_SERVICE_ENV ?? '')
        .split(' ')
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    // The default configuration: metrics on (its own free port), tracing off.
    const started = await startService(path.join(here, '../src/main.js'), { METRICS_PORT: String(await freePort()), ...serviceEnv });
    const service = started.child;
    const serviceAddress = started.address;

    const echo = spawn(process.execPath, [path.join(here, 'echo-server.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => stopChild(echo));
    const echoPort = await new Promise<number>((resolve, reject) => {
      echo.stdout!.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString()) as { port: number }).port));
      echo.once('exit', () => reject(new Error('echo server exited')));
    });

    const serviceClient = new InventoryServiceClient(serviceAddress, credentials.createInsecure());
    const echoClient = new InventoryServiceClient(`127.0.0.1:${echoPort}`, credentials.createInsecure());
    const baselineClient = baseline && new InventoryServiceClient(baseline.address, credentials.createInsecure());
    cleanups.push(async () => {
      serviceClient.close();
      echoClient.close();
      baselineClient?.close();
    });

    // Seed what the cached reads will return.
    await unary(serviceClient.createItem.bind(serviceClient))(ITEM);
    await unary(serviceClient.createWarehouse.bind(serviceClient))({ ...WAREHOUSE, active: true });
    for (const sku of BATCH_SKUS) {
      if (sku !== ITEM.sku) await unary(serviceClient.createItem.bind(serviceClient))({ ...ITEM, sku });
      await unary(serviceClient.receiveStock.bind(serviceClient))({
        sku,
        warehouseCode: WAREHOUSE.code,
        quantity: ON_HAND,
        reference: 'bench',
        idempotencyKey: '',
      });
    }

    const options = { inFlight: IN_FLIGHT, durationMs: SECONDS * 1000, warmupMs: 500 };
    const getItem = { sku: ITEM.sku, consistent: false };
    const getWarehouse = { code: WAREHOUSE.code, consistent: false };
    const getStockLevel = { sku: ITEM.sku, warehouseCode: WAREHOUSE.code, consistent: false };
    const batchGetStockLevels = { keys: BATCH_SKUS.map((sku) => ({ sku, warehouseCode: WAREHOUSE.code })), consistent: false };
    type Method = 'getItem' | 'getWarehouse' | 'getStockLevel' | 'batchGetStockLevels';
    const call = <Req>(client: InventoryServiceClient, method: Method, req: Req) => {
      const fn = unary(client[method].bind(client) as (r: Req, cb: (err: ServiceError | null, res: unknown) => void) => unknown);
      return () => fn(req);
    };
    // Throughput on this shared 2-core machine drifts with whatever else runs, so each
    // comparison runs its pair back to back, ROUNDS times, and the ratio is taken within a
    // round. The server processes' CPU time per call (from /proc) is reported as well: it
    // does not depend on how busy the machine is, and 1 / (CPU per call) is the throughput
    // one dedicated core would give.
    const targets = {
      echo: { pid: echo.pid!, client: echoClient },
      service: { pid: service.pid!, client: serviceClient },
      baseline: { pid: baseline?.child.pid ?? 0, client: baselineClient ?? serviceClient },
    };
    const measure = async (target: keyof typeof targets, fn: () => Promise<unknown>): Promise<Measured> => {
      await runLoad(fn, { ...options, durationMs: options.warmupMs, warmupMs: 0 });
      const cpu0 = cpuMs(targets[target].pid);
      const load = await runLoad(fn, { ...options, warmupMs: 0 });
      const cpu = cpuMs(targets[target].pid) - cpu0;
      return { load, cpuUsPerCall: (cpu * 1000) / Math.max(1, load.calls) };
    };
    const comparisons: Array<{ name: string; method: Method; req: object }> = [
      { name: 'GetItem', method: 'getItem' as const, req: getItem },
      { name: 'GetWarehouse', method: 'getWarehouse' as const, req: getWarehouse },
      { name: 'GetStockLevel', method: 'getStockLevel' as const, req: getStockLevel },
      { name: `BatchGetStockLevels ${BATCH_SKUS.length} keys`, method: 'batchGetStockLevels' as const, req: batchGetStockLevels },
    ];
    process.stdout.write(
      `read path benchmark: ${IN_FLIGHT} in flight, ${ROUNDS} rounds of ${SECONDS} s per target, ${os.cpus().length} cores, node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)}\n`,
    );
    let failed = false;
    for (const c of comparisons) {
      const rounds: Array<{ ceiling: Measured; subject: Measured; baseline?: Measured }> = [];
      for (let i = 0; i < ROUNDS; i++) {
        const ceiling = await measure('echo', call(echoClient, c.method, c.req));
        const subject = await measure('service', call(serviceClient, c.method, c.req));
        const base = baselineClient && (await measure('baseline', call(baselineClient, c.method, c.req)));
        rounds.push({ ceiling, subject, ...(base ? { baseline: base } : {}) });
        failed ||= ceiling.load.errors + subject.load.errors + (base?.load.errors ?? 0) > 0;
      }
      const ratios = rounds.map((r) => r.subject.load.perSecond / r.ceiling.load.perSecond);
      const cpuRatios = rounds.map((r) => r.ceiling.cpuUsPerCall / r.subject.cpuUsPerCall);
      const mid = rounds[medianIndex(ratios)]!;
      process.stdout.write(`${`echo server ${c.name} (grpc-js ceiling)`.padEnd(44)} ${format(mid.ceiling)}\n`);
      process.stdout.write(`${`service ${c.name} (cached)`.padEnd(44)} ${format(mid.subject)}\n`);
      process.stdout.write(
        `${'  throughput / ceiling, median'.padEnd(44)} ${median(ratios).toFixed(2)}   (rounds: ${ratios.map((r) => r.toFixed(2)).join(' ')})\n`,
      );
      process.stdout.write(
        `${'  ceiling CPU / service CPU per call, median'.padEnd(44)} ${median(cpuRatios).toFixed(2)}   (rounds: ${cpuRatios.map((r) => r.toFixed(2)).join(' ')})\n`,
      );
      if (baselineClient) {
        const base = rounds.map((r) => r.baseline!);
        const vsBase = rounds.map((r) => r.subject.load.perSecond / r.baseline!.load.perSecond);
        const cpuVsBase = rounds.map((r) => r.baseline!.cpuUsPerCall / r.subject.cpuUsPerCall);
        process.stdout.write(`${`baseline ${c.name} (cached)`.padEnd(44)} ${format(base[medianIndex(vsBase)]!)}\n`);
        process.stdout.write(
          `${'  throughput / baseline, median'.padEnd(44)} ${median(vsBase).toFixed(2)}   (rounds: ${vsBase.map((r) => r.toFixed(2)).join(' ')})\n`,
        );
        process.stdout.write(
          `${'  baseline CPU / service CPU per call, median'.padEnd(44)} ${median(cpuVsBase).toFixed(2)}   (rounds: ${cpuVsBase.map((r) => r.toFixed(2)).join(' ')})\n`,
        );
      }
    }
    const uncached = await measure('service', call(serviceClient, 'getItem', { ...getItem, consistent: true }));
    process.stdout.write(`${'service GetItem consistent=true (database)'.padEnd(44)} ${format(uncached)}\n`);
    const uncachedLevel = await measure('service', call(serviceClient, 'getStockLevel', { ...getStockLevel, consistent: true }));
    process.stdout.write(`${'service GetStockLevel consistent=true'.padEnd(44)} ${format(uncachedLevel)}\n`);
    const uncachedBatch = await measure('service', call(serviceClient, 'batchGetStockLevels', { ...batchGetStockLevels, consistent: true }));
    process.stdout.write(`${`service BatchGetStockLevels ${BATCH_SKUS.length} consistent=true`.padEnd(44)} ${format(uncachedBatch)}\n`);
    failed ||= uncachedLevel.load.errors + uncachedBatch.load.errors > 0;
    if (failed || uncached.load.errors > 0) process.stdout.write('WARNING: some calls failed; the numbers are suspect\n');
  } finally {
    for (const c of cleanups.reverse()) await c().catch((err: Error) => process.stderr.write(`cleanup: ${err.message}\n`));
  }
}

function medianIndex(values: readonly number[]): number {
  const order = values.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
  return order[Math.floor((order.length - 1) / 2)]![1];
}

interface Measured {
  readonly load: LoadResult;
  /** CPU time (user + system) the server process spent per call. */
  readonly cpuUsPerCall: number;
}

/** CPU time of a process so far, in ms (Linux /proc; clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function median(values: readonly number[]): number {
  return values[medianIndex(values)]!;
}

function format(m: Measured): string {
  const r = m.load;
  return `${Math.round(r.perSecond).toString().padStart(7)} calls/s   p50 ${r.p50Ms.toFixed(2)} ms   p99 ${r.p99Ms.toFixed(2)} ms   ${m.cpuUsPerCall.toFixed(0)} µs CPU/call${r.errors ? `   errors ${r.errors}` : ''}`;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
