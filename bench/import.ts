import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import pg from 'pg';
import { EmbeddedPostgres } from '../src/embedded/postgres.js';
import { InventoryServiceClient } from '../src/gen/inventory/v1/inventory_service.js';
import type { ImportStockCountsResponse, StockCount } from '../src/gen/inventory/v1/stock_import.js';
import { createLogger } from '../src/log.js';
import { appendLag, cpuMsOf } from './measure.js';
import { freePort, startChild } from './processes.js';

/**
 * `make bench-import`: ImportStockCounts against today's per-call AdjustStock (new_on_hand),
 * rows per second WITH their events (the clock stops when the last event of the run is
 * confirmed in DynamoDB), measured in one run on the embedded stack, the service as a child
 * process. Every row changes its level, so every row is one ledger row and one event.
 * The service's heap (its /metrics, sampled every 200 ms) is printed for an import of a
 * tenth of the rows and for the full one: flat memory means the same peak for both.
 *
 *   BENCH_IMPORT_ROWS (default 100000)  rows of the big import (levels: rows/100 skus x 100 warehouses)
 *   BENCH_SECONDS     (default 10)      seconds of the AdjustStock run
 *   BENCH_CALLERS     (default 32)      concurrent AdjustStock callers
 */
const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CALLERS = Number(process.env.BENCH_CALLERS ?? 32);
const WAREHOUSES = 100;
const SKUS = Math.max(1, Math.ceil(ROWS / WAREHOUSES));
const log = createLogger('warn');
const wh = (i: number) => `W${String(i).padStart(2, '0')}`;
const sku = (i: number) => `B${String(i).padStart(6, '0')}`;

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
}

/** The service's heap in MB, from its Prometheus endpoint. */
async function heapMb(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const m = /^nodejs_heap_size_used_bytes (\S+)/m.exec(text);
  return m === null ? NaN : Number(m[1]) / 1e6;
}

function importCounts(client: InventoryServiceClient, importId: string, rows: () => Iterable<StockCount>): Promise<ImportStockCountsResponse> {
  return new Promise((resolve, reject) => {
    const call = client.importStockCounts(new Metadata(), (err: ServiceError | null, res?: ImportStockCountsResponse) => (err ? reject(err) : resolve(res!)));
    void (async () => {
      let counts: StockCount[] = [];
      let first = true;
      const send = async () => {
        const ok = call.write({ importId: first ? importId : '', reason: '', counts });
        first = false;
        counts = [];
        if (!ok) await new Promise((r) => call.once('drain', r));
      };
      for (const r of rows()) {
        counts.push(r);
        if (counts.length === 500) await send();
      }
      if (counts.length > 0) await send();
      call.end();
    })().catch(reject);
  });
}

function* levelRows(n: number, counted: (i: number) => number): Iterable<StockCount> {
  for (let i = 0; i < n; i++) yield { sku: sku(Math.floor(i / WAREHOUSES)), warehouseCode: wh(i % WAREHOUSES), countedOnHand: BigInt(counted(i)), expectedVersion: undefined };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-bench-import-'));
  await chmod(dir, 0o755);
  const children: ChildProcess[] = [];
  const pgServer = new EmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: await freePort(), database: 'bench', log });
  try {
    await pgServer.start();
    const dynamo = startChild([path.resolve('dist/bench/dynamodb-server.js')], {});
    children.push(dynamo.child);
    const [dynamoEndpoint = '', dynamoKind = ''] = (await dynamo.firstLine).split(' ');
    const port = await freePort();
    const metricsPort = await freePort();
    const service = startChild([path.resolve('dist/src/main.js')], {
      GRPC_PORT: String(port),
      DATABASE_URL: pgServer.url,
      DYNAMODB_ENDPOINT: dynamoEndpoint,
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
      METRICS_PORT: String(metricsPort),
      AUDIT_ENABLED: 'false',
    });
    service.firstLine.catch(() => undefined);
    children.push(service.child);
    const client = new InventoryServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const unary = <Res>(method: string, req: unknown): Promise<Res> =>
      new Promise((resolve, reject) =>
        (client as unknown as Record<string, Function>)[method]!.call(client, req, new Metadata(), (err: Error | null, res: Res) => (err ? reject(err) : resolve(res))),
      );
    for (let attempt = 0; ; attempt++) {
      try {
        await unary('getWarehouse', { code: 'NONE' });
        break;
      } catch (err) {
        if ((err as { code?: number }).code === 5) break;
        if (attempt > 300) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    process.stdout.write(`seeding ${WAREHOUSES} warehouses and ${SKUS} items...\n`);
    const inParallel = async (n: number, f: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < n; i += 32) await Promise.all(Array.from({ length: Math.min(32, n - i) }, (_, k) => f(i + k)));
    };
    await inParallel(WAREHOUSES, (i) => unary('createWarehouse', { code: wh(i), name: wh(i), region: 'eu', priority: 1, active: true }));
    await inParallel(SKUS, (i) => unary('createItem', { sku: sku(i), name: sku(i), description: '' }));

    const pool = new pg.Pool({ connectionString: pgServer.url, max: 2 });
    const quiet = async () => {
      while ((await appendLag(pool, new Date(0))).unappended > 0) await new Promise((r) => setTimeout(r, 200));
    };
    /** Runs `work`, then waits until its events are in DynamoDB; rows/s over the whole span, lag, CPU, heap peak. */
    const measured = async (name: string, work: () => Promise<number>) => {
      await quiet();
      const since = new Date();
      const cpu0 = cpuMsOf(service.child.pid!);
      const heapBefore = await heapMb(metricsPort);
      let heapPeak = heapBefore;
      const sampler = setInterval(() => void heapMb(metricsPort).then((h) => (heapPeak = Math.max(heapPeak, h)), () => undefined), 200);
      const started = performance.now();
      const rows = await work();
      const answered = performance.now();
      for (let i = 0; i < 6000 && (await appendLag(pool, since)).unappended > 0; i++) await new Promise((r) => setTimeout(r, 50));
      const end = performance.now();
      clearInterval(sampler);
      const lag = await appendLag(pool, since);
      const cpu = cpuMsOf(service.child.pid!) - cpu0;
      const perSecond = Math.round(rows / ((end - started) / 1000));
      process.stdout.write(
        `  ${name.padEnd(40)} ${String(perSecond).padStart(6)} rows/s with events  (${rows} rows, answered ${((answered - started) / 1000).toFixed(1)} s, ` +
          `events in DynamoDB ${((end - started) / 1000).toFixed(1)} s; ${lag.events} events, append lag p50 ${lag.p50} ms p99 ${lag.p99} ms` +
          `${lag.unappended > 0 ? `, ${lag.unappended} unappended` : ''}; service CPU ${(cpu / rows).toFixed(2)} ms/row; heap ${heapBefore.toFixed(0)} -> peak ${heapPeak.toFixed(0)} MB)\n`,
      );
      return { perSecond, heapPeak, heapBefore };
    };

    process.stdout.write(`\n${os.cpus().length} cpus, DynamoDB API: ${dynamoKind}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    const adjust = await measured(`AdjustStock, ${CALLERS} callers, ${SECONDS} s`, async () => {
      let n = 0;
      const end = Date.now() + SECONDS * 1000;
      await Promise.all(
        Array.from({ length: CALLERS }, async (_, c) => {
          for (let k = 0; Date.now() < end; k++) {
            const i = (c * 7919 + k * CALLERS) % ROWS; // distinct levels per caller: no lock queues
            await unary('adjustStock', {
              sku: sku(Math.floor(i / WAREHOUSES)),
              warehouseCode: wh(i % WAREHOUSES),
              change: { $case: 'newOnHand', value: BigInt(1000 + k) },
              reason: 'cycle count',
              reference: '',
              idempotencyKey: '',
            });
            n++;
          }
        }),
      );
      return n;
    });
    const small = await measured(`ImportStockCounts, ${ROWS / 10} rows`, async () => {
      const r = await importCounts(client, 'bench-small', () => levelRows(ROWS / 10, (i) => 5 + (i % 3)));
      if (r.applied + r.unchanged !== BigInt(ROWS / 10)) throw new Error(`small import: ${JSON.stringify(r, (_, v) => (typeof v === 'bigint' ? Number(v) : v))}`);
      return ROWS / 10;
    });
    const big = await measured(`ImportStockCounts, ${ROWS} rows`, async () => {
      // 9 + i % 3 is never what AdjustStock or the small import left: every row changes its level.
      const r = await importCounts(client, 'bench-big', () => levelRows(ROWS, (i) => 9 + (i % 3)));
      if (r.applied !== BigInt(ROWS)) throw new Error(`big import applied ${r.applied} of ${ROWS}`);
      return ROWS;
    });
    await pool.end();
    client.close();
    process.stdout.write(
      `\nImportStockCounts / AdjustStock: ${(big.perSecond / adjust.perSecond).toFixed(2)} (rows/s with events; target >= 2000 rows/s: ${big.perSecond})\n` +
        `heap peak: ${ROWS} rows ${big.heapPeak.toFixed(0)} MB vs ${ROWS / 10} rows ${small.heapPeak.toFixed(0)} MB (ratio ${(big.heapPeak / small.heapPeak).toFixed(2)}; flat is ~1)` +
        `; load average ${os.loadavg()[0]!.toFixed(1)}\n`,
    );
  } finally {
    for (const child of children.reverse()) await stopChild(child);
    await pgServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
