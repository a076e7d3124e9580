import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import pg from 'pg';
import { EmbeddedPostgres } from '../src/embedded/postgres.js';
import { InventoryServiceClient } from '../src/gen/inventory/v1/inventory_service.js';
import type { ImportStockCountsResponse, StockCount } from '../src/gen/inventory/v1/stock_import.js';
import { createLogger } from '../src/log.js';
import { ChildInspector } from './inspector.js';
import { appendLag, countsSince, cpuMsOf, dynamoCounts, postmasterPid, treeCpuMs } from './measure.js';
import { eventsTable, freePort, startChild, stopChild, waitServing } from './processes.js';

/**
 * `make bench-import`: ImportStockCounts against today's per-call AdjustStock (new_on_hand),
 * rows per second WITH their events (the clock stops when the last event of the run is
 * confirmed in DynamoDB), measured in one run on the embedded stack, the service as a child
 * process. Every row changes its level, so every row is one ledger row and one event; most
 * levels are new (a first count), as each measured step counts its own skus.
 *
 * For each run it prints where the CPU went per row (the service, PostgreSQL, the DynamoDB
 * Local JVM, the bench's counting proxy in front of it, and everything else on the machine:
 * other jobs sharing it), DynamoDB requests per row, the backlog of events committed and not
 * yet appended, and the service's LIVE heap: heap used after a forced full GC (through the
 * service's inspector), sampled when the events of 10%, 30%, 50%, 70% and 90% of the rows
 * are in DynamoDB (50% and 90% of the small import). Flat memory means the same live heap
 * during an import of a tenth of the rows and during the full one.
 *
 *   BENCH_IMPORT_ROWS   (default 100000) rows of the big import (levels: rows/100 skus x 100 warehouses)
 *   BENCH_SECONDS       (default 10)     seconds of the AdjustStock run
 *   BENCH_CALLERS       (default 32)     concurrent AdjustStock callers
 *   BENCH_VARIANTS      (default this checkout's dist) service builds to compare in one run,
 *                       separated by ';', each a dist directory optionally followed by
 *                       space-separated service settings, e.g. ".base-dist;dist" or
 *                       "dist;dist STOCK_IMPORT_BATCH_ROWS=1000". Each variant in turn runs
 *                       AdjustStock, the small and the big import on the same database
 *                       (restarted on its build), after one untimed warm-up import.
 *   BENCH_ROUNDS        (default 1)      how many times the variants take their turns (A B A B ...)
 *   BENCH_SERVICE_NODE_ARGS              extra node arguments of the service (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof)
 *   BENCH_PG_STATEMENTS (N > 0)          PostgreSQL runs pg_stat_statements; each run prints its N statements
 *                                        with the most execution time (ms per row, calls)
 *   BENCH_PG_SETTINGS                    extra PostgreSQL settings, "name=value,name=value" (e.g. auto_explain's)
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CALLERS = Number(process.env.BENCH_CALLERS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const PG_STATEMENTS = Number(process.env.BENCH_PG_STATEMENTS ?? 0);
const NODE_ARGS = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
const WAREHOUSES = 100;
const SKUS = Math.max(1, Math.ceil(ROWS / WAREHOUSES));
/**
 * When the live heap is sampled, as fractions of the rows whose events are appended. Each
 * sample stops the service for two full collections (0.2-1 s each on the shared machine at
 * load 10-15), so the short import gets two.
 */
const BIG_SAMPLES = [0.1, 0.3, 0.5, 0.7, 0.9];
const SMALL_SAMPLES = [0.5, 0.9];
const log = createLogger('warn');
const wh = (i: number) => `W${String(i).padStart(2, '0')}`;
/** The skus of one step: each step counts levels nobody counted before. */
const sku = (step: number, i: number) => `S${step}-${String(i).padStart(6, '0')}`;
const mb = (bytes: number) => (bytes / 1e6).toFixed(0);

function pgSettings(): Record<string, string> {
  const extra = Object.fromEntries(
    (process.env.BENCH_PG_SETTINGS ?? '')
      .split(',')
      .filter((kv) => kv.includes('='))
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  return PG_STATEMENTS > 0 ? { shared_preload_libraries: 'pg_stat_statements', ...extra } : extra;
}

interface Variant {
  readonly label: string;
  readonly dist: string;
  readonly env: Record<string, string>;
}

function variants(): Variant[] {
  const spec = process.env.BENCH_VARIANTS ?? path.join(here, '..');
  return spec
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const [dist = '', ...settings] = s.split(/\s+/);
      return {
        label: s,
        dist: path.resolve(dist),
        env: Object.fromEntries(settings.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
      };
    });
}


/** Busy and total CPU time of the whole machine so far (ms, all cores), from /proc/stat. */
function machineCpuMs(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = fields[3]! + fields[4]!; // idle + iowait
  return { busy: ((total - idle) * 1000) / 100, total: (total * 1000) / 100 };
}

/** Streams `n` rows in messages of 500, as the client package's writer does (waits for `drain`). */
function importCounts(
  client: InventoryServiceClient,
  importId: string,
  n: number,
  row: (i: number) => StockCount,
): Promise<ImportStockCountsResponse> {
  return new Promise((resolve, reject) => {
    const call = client.importStockCounts(new Metadata(), (err: ServiceError | null, res?: ImportStockCountsResponse) => (err ? reject(err) : resolve(res!)));
    void (async () => {
      for (let i = 0; i < n; i += 500) {
        const counts = Array.from({ length: Math.min(500, n - i) }, (_, k) => row(i + k));
        const ok = call.write({ importId: i === 0 ? importId : '', reason: '', counts });
        if (!ok) await new Promise((r) => call.once('drain', r));
      }
      call.end();
    })().catch(reject);
  });
}

interface Measured {
  readonly perSecond: number;
  /** Live heap (after a forced GC) before the run, and the most sampled during it, bytes. */
  readonly liveBefore: number;
  readonly livePeak: number;
  /** CPU ms per row of the service, PostgreSQL, DynamoDB Local and its proxy; of everything else on the machine. */
  readonly stackCpuPerRow: number;
  readonly othersPerRow: number;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-bench-import-'));
  await chmod(dir, 0o755);
  const children: ChildProcess[] = [];
  let service: ChildProcess | undefined;
  let inspector: ChildInspector | undefined;
  const pgServer = new EmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: await freePort(), database: 'bench', log, settings: pgSettings() });
  try {
    await pgServer.start();
    const dynamo = startChild([path.join(here, 'dynamodb-server.js')], {});
    children.push(dynamo.child);
    const [dynamoEndpoint = '', dynamoKind = ''] = (await dynamo.firstLine).split(' ');
    const dynamoPid = dynamo.child.pid!;
    const pgPid = postmasterPid(path.join(dir, 'pg'));
    const port = await freePort();
    const inspectPort = await freePort();
    const startService = async (v: Variant) => {
      const s = startChild([...NODE_ARGS, `--inspect=127.0.0.1:${inspectPort}`, path.join(v.dist, 'src/main.js')], {
        GRPC_PORT: String(port),
        DATABASE_URL: pgServer.url,
        DYNAMODB_ENDPOINT: dynamoEndpoint,
        EVENTS_TABLE: eventsTable('import'),
        DATA_DIR: dir,
        LOG_LEVEL: 'warn',
        METRICS_PORT: '0',
        AUDIT_ENABLED: 'false',
        ...v.env,
      });
      s.firstLine.catch(() => undefined);
      service = s.child;
      await waitServing(`127.0.0.1:${port}`, 120_000);
      inspector = await ChildInspector.connect(inspectPort);
    };
    const stopService = async () => {
      inspector?.close();
      inspector = undefined;
      if (service !== undefined) await stopChild(service);
      service = undefined;
    };
    const all = variants();
    await startService(all[0]!);
    const client = new InventoryServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const unary = <Res>(method: string, req: unknown): Promise<Res> =>
      new Promise((resolve, reject) =>
        (client as unknown as Record<string, Function>)[method]!.call(client, req, new Metadata(), (err: Error | null, res: Res) => (err ? reject(err) : resolve(res))),
      );
    const inParallel = async (n: number, f: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < n; i += 32) await Promise.all(Array.from({ length: Math.min(32, n - i) }, (_, k) => f(i + k)));
    };
    await inParallel(WAREHOUSES, (i) => unary('createWarehouse', { code: wh(i), name: wh(i), region: 'eu', priority: 1, active: true }));
    const seedItems = (step: number, n: number) => inParallel(n, (i) => unary('createItem', { sku: sku(step, i), name: sku(step, i), description: '' }));
    /** Row i of a step: level (sku i / 100, warehouse i % 100), counted `counted`. */
    const countRow = (step: number, i: number, counted: number): StockCount => ({
      sku: sku(step, Math.floor(i / WAREHOUSES)),
      warehouseCode: wh(i % WAREHOUSES),
      countedOnHand: BigInt(counted),
      expectedVersion: undefined,
    });

    const pool = new pg.Pool({ connectionString: pgServer.url, max: 2 });
    if (PG_STATEMENTS > 0) await pool.query('create extension if not exists pg_stat_statements');
    const quiet = async () => {
      while ((await appendLag(pool, new Date(0))).unappended > 0) await new Promise((r) => setTimeout(r, 200));
    };
    /**
     * Runs `work`, then waits until its events are in DynamoDB: rows/s over the whole span,
     * append lag, CPU per row by process, DynamoDB requests per row. While it runs, every
     * 500 ms: the events committed and not yet appended (the backlog: near the relay's
     * pacing bound when the appends set the pace, near zero when the import's own
     * transactions do), and the live heap when the appended events pass `heapAt` (each a
     * forced full GC in the service; taken one at a time, without holding `work` up).
     */
    const measured = async (name: string, work: () => Promise<number>, heapAt: readonly number[] = []): Promise<Measured> => {
      await quiet();
      const since = new Date();
      const svcPid = service!.pid!;
      const before = await inspector!.memoryAfterGc();
      const liveBefore = before.heapUsed;
      let buffersPeak = before.arrayBuffers;
      const cpu0 = { svc: cpuMsOf(svcPid), pg: treeCpuMs(pgPid), dynamo: treeCpuMs(dynamoPid), proxy: cpuMsOf(dynamoPid), bench: process.cpuUsage(), machine: machineCpuMs() };
      const counts0 = await dynamoCounts(dynamoEndpoint);
      if (PG_STATEMENTS > 0) await pool.query('select pg_stat_statements_reset()');
      const load0 = os.loadavg()[0]!;
      const [{ id: id0 }] = (await pool.query<{ id: string }>('select coalesce(max(id), 0) as id from event_outbox')).rows as [{ id: string }];
      const live: number[] = [];
      const backlog: number[] = [];
      let gcMs = 0;
      let sampling: Promise<void> = Promise.resolve();
      let pending = false;
      let working = true;
      const marks = [...heapAt];
      const watcher = (async () => {
        while (working) {
          await new Promise((r) => setTimeout(r, 500));
          // The pending index holds just the backlog: a cheap count.
          const { rows: b } = await pool.query<{ n: number }>('select count(*)::int as n from event_outbox where appended_at is null and id > $1', [id0]);
          backlog.push(b[0]!.n);
          // Events appended so far, from the proxy's count of (full, under load) 25-event requests.
          if (marks.length === 0) continue;
          const appended = 25 * (((await dynamoCounts(dynamoEndpoint)).BatchExecuteStatement ?? 0) - (counts0.BatchExecuteStatement ?? 0));
          while (marks.length > 0 && appended >= marks[0]! && !pending) {
            marks.shift();
            pending = true;
            sampling = (async () => {
              const t = performance.now();
              const m = await inspector!.memoryAfterGc();
              live.push(m.heapUsed);
              buffersPeak = Math.max(buffersPeak, m.arrayBuffers);
              gcMs += performance.now() - t;
              pending = false;
            })();
          }
        }
      })();
      const started = performance.now();
      const rows = await work();
      const answered = performance.now();
      working = false;
      await watcher;
      for (let i = 0; i < 6000 && (await appendLag(pool, since)).unappended > 0; i++) await new Promise((r) => setTimeout(r, 50));
      const end = performance.now();
      await sampling;
      const lag = await appendLag(pool, since);
      const requests = countsSince(counts0, await dynamoCounts(dynamoEndpoint));
      const benchCpu = process.cpuUsage(cpu0.bench);
      const machine = machineCpuMs();
      const svc = cpuMsOf(svcPid) - cpu0.svc;
      const pgCpu = treeCpuMs(pgPid) - cpu0.pg;
      const proxy = cpuMsOf(dynamoPid) - cpu0.proxy;
      const jvm = treeCpuMs(dynamoPid) - cpu0.dynamo - proxy;
      const bench = (benchCpu.user + benchCpu.system) / 1000;
      const busy = machine.busy - cpu0.machine.busy;
      const others = busy - svc - pgCpu - proxy - jvm - bench;
      const seconds = (end - started) / 1000;
      const perSecond = Math.round(rows / seconds);
      const perRow = (ms: number) => (ms / rows).toFixed(3);
      const livePeak = Math.max(liveBefore, ...live);
      process.stdout.write(
        `  ${name.padEnd(34)} ${String(perSecond).padStart(6)} rows/s with events (${rows} rows; answered ${((answered - started) / 1000).toFixed(1)} s, ` +
          `events in DynamoDB ${seconds.toFixed(1)} s; ${lag.events} events, append lag p50 ${lag.p50} ms p99 ${lag.p99} ms` +
          `${lag.unappended > 0 ? `, ${lag.unappended} unappended` : ''}; load average ${load0.toFixed(1)} -> ${os.loadavg()[0]!.toFixed(1)})\n` +
          `  ${''.padEnd(34)} CPU ms/row: service ${perRow(svc)}, PostgreSQL ${perRow(pgCpu)}, DynamoDB Local JVM ${perRow(jvm)}, its proxy ${perRow(proxy)}, ` +
          `bench ${perRow(bench)}, others ${perRow(others)}; machine busy ${((100 * busy) / (machine.total - cpu0.machine.total)).toFixed(0)}%; ` +
          `DynamoDB ${(requests.total / rows).toFixed(3)} req/row (${Object.entries(requests.byOperation).map(([op, n]) => `${op} ${n}`).join(', ')})\n` +
          `  ${''.padEnd(34)} events committed and not yet appended, sampled every 500 ms: mean ${Math.round(backlog.reduce((a, b) => a + b, 0) / Math.max(1, backlog.length))}, ` +
          `max ${Math.max(0, ...backlog)}; live heap (after forced GC): before ${mb(liveBefore)} MB, during ${live.length > 0 ? live.map(mb).join(' ') : '-'} MB ` +
          `(peak ${mb(livePeak)} MB, array buffers at most ${mb(buffersPeak)} MB; ${gcMs.toFixed(0)} ms in the samples, which hold up the service)\n`,
      );
      if (PG_STATEMENTS > 0) {
        const top = await pool.query<{ ms: number; calls: string; query: string }>(
          `select total_exec_time as ms, calls, query from pg_stat_statements order by total_exec_time desc limit $1`,
          [PG_STATEMENTS],
        );
        for (const st of top.rows) {
          process.stdout.write(`  ${''.padEnd(34)} ${(st.ms / rows).toFixed(4)} ms/row ${String(st.calls).padStart(7)} calls  ${st.query.replace(/\s+/g, ' ').slice(0, 150)}\n`);
        }
      }
      return { perSecond, liveBefore, livePeak, stackCpuPerRow: (svc + pgCpu + jvm + proxy) / rows, othersPerRow: others / rows };
    };
    /** An import of `n` rows of `step` in which every row changes its level. */
    const importStep = async (step: number, id: string, n: number, counted: (i: number) => number) => {
      const res = await importCounts(client, id, n, (i) => countRow(step, i, counted(i)));
      if (res.applied !== BigInt(n)) throw new Error(`import ${id}: ${JSON.stringify(res, (_, x) => (typeof x === 'bigint' ? Number(x) : x))}`);
      return n;
    };

    process.stdout.write(`\n${os.cpus().length} cpus, DynamoDB API: ${dynamoKind}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    // Warm-up (untimed): the JIT of DynamoDB Local and of the service, PostgreSQL's caches.
    await seedItems(0, Math.ceil(SKUS / 10));
    process.stdout.write(`warm-up: an import of ${ROWS / 10} rows\n`);
    await importStep(0, 'warm-up', ROWS / 10, (i) => 1 + (i % 3));

    const results: Array<{ v: Variant; adjust: Measured; small: Measured; big: Measured }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of all) {
        const step = results.length + 1;
        if (step > 1) {
          await stopService();
          await startService(v);
        }
        process.stdout.write(`${v.label} (round ${round + 1}): seeding ${SKUS} items\n`);
        await seedItems(step, SKUS);
        const adjust = await measured(`AdjustStock, ${CALLERS} callers, ${SECONDS} s`, async () => {
          let n = 0;
          const end = Date.now() + SECONDS * 1000;
          await Promise.all(
            Array.from({ length: CALLERS }, async (_, c) => {
              for (let i = 0; Date.now() < end; i++) {
                const row = (c * 7919 + i * CALLERS) % ROWS; // distinct levels per caller: no lock queues
                const r = countRow(step, row, 1000 + i);
                await unary('adjustStock', {
                  sku: r.sku,
                  warehouseCode: r.warehouseCode,
                  change: { $case: 'newOnHand', value: r.countedOnHand },
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
        // Counts AdjustStock (>= 1000) and the small import never left: every row changes its level.
        const small = await measured(`ImportStockCounts, ${ROWS / 10} rows`, () => importStep(step, `small-${step}`, ROWS / 10, (i) => 5 + (i % 3)), SMALL_SAMPLES.map((f) => f * (ROWS / 10)));
        const big = await measured(`ImportStockCounts, ${ROWS} rows`, () => importStep(step, `big-${step}`, ROWS, (i) => 9 + (i % 3)), BIG_SAMPLES.map((f) => f * ROWS));
        results.push({ v, adjust, small, big });
      }
    }
    await pool.end();
    client.close();
    process.stdout.write('\n');
    for (const { v, adjust, small, big } of results) {
      process.stdout.write(
        `${v.label}: ImportStockCounts ${big.perSecond} rows/s with events (target >= 2000; ${ROWS / 10} rows: ${small.perSecond}), / AdjustStock ${adjust.perSecond}: ` +
          `${(big.perSecond / adjust.perSecond).toFixed(2)}; CPU ms/row of the stack ${big.stackCpuPerRow.toFixed(3)}, of other jobs ${big.othersPerRow.toFixed(3)}; ` +
          `live heap peak ${ROWS} rows ${mb(big.livePeak)} MB vs ${ROWS / 10} rows ${mb(small.livePeak)} MB (ratio ${(big.livePeak / small.livePeak).toFixed(2)}; flat is ~1)\n`,
      );
    }
    process.stdout.write(`load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  } finally {
    inspector?.close();
    if (service !== undefined) await stopChild(service);
    for (const child of children.reverse()) await stopChild(child);
    await pgServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
