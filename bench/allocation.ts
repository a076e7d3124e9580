import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import pg from 'pg';
import { InventoryServiceClient, AllocateStockRequest, type AllocateStockResponse } from '../src/gen/inventory/v1/inventory_service.js';
import { createLogger } from '../src/log.js';
import { appendLag, committedLag, countsSince, cpuMsOf, dynamoCounts, storedLag, treeCpuMs } from './measure.js';
import { dynamoCpuLabel, eventsTable, freePort, startChild, stopChild, eventStoreNote } from './processes.js';
import { benchPostgres, type BenchPostgres } from './postgres.js';
import { rawAllocate } from './raw-allocate.js';

/**
 * `make bench`: allocation throughput of the service against the raw-SQL ceiling, on the
 * embedded stack, in one process tree: this process (the load generator), an embedded
 * PostgreSQL, a DynamoDB API process (bench/dynamodb-server.ts: DynamoDB Local where Java
 * 17+ exists, or EMBEDDED_DYNAMODB=dynalite), and the service as a child process (as in
 * production, the caller and the service do not share an event loop). The raw-SQL ceiling
 * runs first, with the service stopped (nothing else takes CPU from it), then the service.
 * For each service run it also prints the service's CPU per allocation, DynamoDB requests
 * per allocation and the commit -> DynamoDB append lag.
 *
 *   BENCH_SECONDS (default 10)  measured seconds per run (after 2 s of warm-up)
 *   BENCH_CALLERS (default 64)  concurrent callers
 *   BENCH_SKUS    (default 1000) skus in the many-sku runs
 */
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CALLERS = Number(process.env.BENCH_CALLERS ?? 64);
const SKUS = Number(process.env.BENCH_SKUS ?? 1000);
// BENCH_AUDITOR=false skips runs 3-4 (the auditor's cost); BENCH_AUDIT_CATCH_UP_S bounds its catch-up first.
const AUDITOR = process.env.BENCH_AUDITOR !== 'false';
const CATCH_UP_MS = Number(process.env.BENCH_AUDIT_CATCH_UP_S ?? 300) * 1000;
const POOL = 20; // the service's DATABASE_POOL_MAX default, given to the raw-SQL pool too
const CHANNELS = 8;
const log = createLogger('warn');

interface Result {
  name: string;
  ok: number;
  failed: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** Runs `call` from CALLERS concurrent loops for warm-up + SECONDS; counts only the measured window. */
async function load(name: string, call: (i: number) => Promise<boolean>): Promise<Result> {
  let i = 0;
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const warmUpEnd = Date.now() + 2000;
  const end = warmUpEnd + SECONDS * 1000;
  let measuredStart = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (Date.now() < end) {
        const started = performance.now();
        const success = await call(i++).catch((err: Error) => {
          if (!/not enough stock/.test(err.message)) throw err;
          return false;
        });
        const now = Date.now();
        if (now >= warmUpEnd) {
          if (measuredStart === 0) measuredStart = now;
          latencies.push(performance.now() - started);
          if (success) ok++;
          else failed++;
        }
      }
    }),
  );
  const elapsed = (Date.now() - warmUpEnd) / 1000;
  latencies.sort((a, b) => a - b);
  const q = (p: number) => Math.round((latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0) * 10) / 10;
  const r = { name, ok, failed, perSecond: Math.round(ok / elapsed), p50: q(0.5), p99: q(0.99) };
  process.stdout.write(`  ${name.padEnd(34)} ${String(r.perSecond).padStart(6)} alloc/s  p50 ${String(r.p50).padStart(6)} ms  p99 ${String(r.p99).padStart(6)} ms  (${ok} ok, ${failed} short)\n`);
  return r;
}


async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-bench-'));
  await chmod(dir, 0o755);
  const children: ChildProcess[] = [];
  let service: ChildProcess | undefined;
  // track_commit_timestamp: the append lag is measured from each transaction's commit (committedLag).
  let pgServer: BenchPostgres | undefined;
  try {
    pgServer = await benchPostgres(dir, 'allocation', log, { track_commit_timestamp: 'on' });
    const pg0 = pgServer;
    const pgCpu = () => pg0.cpuMs();
    /** CPU ms per allocation between two readings of pgCpu, or `n/a` for a server elsewhere. */
    const perAlloc = (before: number | undefined, after: number | undefined) => (allocations: number): string =>
      before === undefined || after === undefined ? 'n/a (elsewhere)' : ((after - before) / allocations).toFixed(2);
    const dynamo = startChild([path.resolve('dist/bench/dynamodb-server.js')], {});
    children.push(dynamo.child);
    const [dynamoEndpoint = '', dynamoKind = ''] = (await dynamo.firstLine).split(' ');
    const port = await freePort();
    // BENCH_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the service.
    const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    // The service on a fixed port, restartable: the last runs repeat with the integrity auditor on.
    const startService = (auditor: boolean) => {
      const s = startChild([...nodeArgs, path.resolve('dist/src/main.js')], {
        GRPC_PORT: String(port),
        DATABASE_URL: pg0.url,
        DYNAMODB_ENDPOINT: dynamoEndpoint,
        EVENTS_TABLE: eventsTable('allocation'),
        DATA_DIR: dir,
        LOG_LEVEL: 'warn',
        DATABASE_POOL_MAX: String(POOL),
        METRICS_PORT: '0',
        AUDIT_ENABLED: String(auditor),
      });
      s.firstLine.catch(() => undefined); // the service prints nothing; an early exit shows up as failed calls
      return s.child;
    };
    service = startService(false);

    const clients = Array.from({ length: CHANNELS }, (_, i) => new InventoryServiceClient(`127.0.0.1:${port}`, credentials.createInsecure(), { 'grpc.channel_id': i } as never));
    const unary = <Req, Res>(client: InventoryServiceClient, method: string, req: Req): Promise<Res> =>
      new Promise((resolve, reject) =>
        (client as unknown as Record<string, Function>)[method]!.call(client, req, new Metadata(), (err: Error | null, res: Res) => (err ? reject(err) : resolve(res))),
      );
    /** Until the (re)started service answers. */
    const waitForService = async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await unary(clients[0]!, 'getWarehouse', { code: 'NONE' });
          return;
        } catch (err) {
          if ((err as { code?: number }).code === 5) return; // NOT_FOUND: it answers
          if (attempt > 300) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };
    await waitForService();
    await unary(clients[0]!, 'createWarehouse', { code: 'W1', name: 'One', region: 'eu', priority: 1, active: true });
    await unary(clients[0]!, 'createWarehouse', { code: 'W2', name: 'Two', region: 'eu', priority: 2, active: true });

    process.stdout.write(`seeding ${SKUS} skus...\n`);
    const skus = Array.from({ length: SKUS }, (_, i) => `SKU-${String(i).padStart(5, '0')}`);
    const seedOne = async (sku: string, quantity: number) => {
      const c = clients[sku.length % CHANNELS]!;
      await unary(c, 'createItem', { sku, name: sku, description: '' });
      for (const w of ['W1', 'W2']) await unary(c, 'receiveStock', { sku, warehouseCode: w, quantity: BigInt(quantity), reference: 'seed', idempotencyKey: '' });
    };
    for (let i = 0; i < skus.length; i += 32) await Promise.all(skus.slice(i, i + 32).map((s) => seedOne(s, 1_000_000)));
    await seedOne('HOT', 100_000_000);

    const pool = new pg.Pool({ connectionString: pgServer.url, max: POOL });
    // An idle connection ended by PostgreSQL's stop in `finally` must not crash the bench
    // before main() reports the error that led there.
    pool.on('error', () => undefined);
    /** A service run, then until its events are in DynamoDB: CPU, DynamoDB requests and lag per allocation. */
    const measured = async (name: string, call: (i: number) => Promise<boolean>): Promise<Result> => {
      // Start with an empty outbox, so the counts and the CPU are this run's alone (not the seeding's backlog).
      while ((await appendLag(pool, new Date(0))).unappended > 0) await new Promise((res) => setTimeout(res, 200));
      const since = new Date();
      const servicePid = service!.pid!;
      const cpu0 = cpuMsOf(servicePid);
      const pgCpu0 = pgCpu();
      const dynamoCpu0 = treeCpuMs(dynamo.child.pid!);
      const counts0 = await dynamoCounts(dynamoEndpoint);
      const r = await load(name, call);
      for (let i = 0; i < 600 && (await appendLag(pool, since)).unappended > 0; i++) await new Promise((res) => setTimeout(res, 100));
      const lag = await appendLag(pool, since);
      const toDynamo = await storedLag(pool, dynamoEndpoint, since);
      const fromCommit = await committedLag(pool, dynamoEndpoint, since);
      const cpuMs = cpuMsOf(servicePid) - cpu0;
      const pgCpuPerAlloc = perAlloc(pgCpu0, pgCpu());
      const dynamoCpuMs = treeCpuMs(dynamo.child.pid!) - dynamoCpu0;
      const requests = countsSince(counts0, await dynamoCounts(dynamoEndpoint));
      const allocations = r.ok + r.failed;
      const ops = Object.entries(requests.byOperation).map(([op, n]) => `${op} ${(n / allocations).toFixed(3)}`).join(', ');
      process.stdout.write(
        `  ${''.padEnd(34)} CPU ms/alloc: service ${(cpuMs / allocations).toFixed(2)}, PostgreSQL ${pgCpuPerAlloc(allocations)}, ${dynamoCpuLabel(dynamoKind)} ${(dynamoCpuMs / allocations).toFixed(2)}; DynamoDB ${(requests.total / allocations).toFixed(3)} req/alloc (${ops}), ` +
          `append lag from the commit to DynamoDB's answer p50 ${fromCommit.p50} ms p99 ${fromCommit.p99} ms (the stock events, ${fromCommit.events}${fromCommit.missing > 0 ? `, ${fromCommit.missing} not seen` : ''}); ` +
          `from the event's time in its transaction (before the commit) to DynamoDB's answer p50 ${toDynamo.p50} ms p99 ${toDynamo.p99} ms${toDynamo.missing > 0 ? ` (${toDynamo.missing} not seen)` : ''}, ` +
          `to the appended_at mark p50 ${lag.p50} ms p99 ${lag.p99} ms, over ${lag.events} events${lag.unappended > 0 ? ` (${lag.unappended} still unappended)` : ''}\n`,
      );
      return r;
    };
    const allocate = (sku: string) => async (i: number | string) => {
      const req = AllocateStockRequest.fromPartial({ allocationId: `svc-${sku === 'HOT' ? 'hot' : 'many'}-${i}`, lines: [{ sku, quantity: 1n }] });
      const res = await unary<AllocateStockRequest, AllocateStockResponse>(clients[Number(String(i).replace(/\D/g, '')) % CHANNELS]!, 'allocateStock', req);
      return res.allocation !== undefined;
    };
    const random = () => skus[Math.floor(Math.random() * skus.length)]!;

    process.stdout.write(`\n${CALLERS} concurrent callers, ${SECONDS} s per run, pool ${POOL}, ${os.cpus().length} cpus, PostgreSQL: ${pgServer.where}, DynamoDB API: ${dynamoKind}, load average ${os.loadavg()[0]!.toFixed(1)}\n`);
    // The ceiling is the raw transaction alone: the seeding's events appended first, then the
    // service stopped, so that neither its relay (which would append the raw runs' outbox rows
    // during the run) nor DynamoDB takes CPU from it. The CPU line says what else ran.
    while ((await appendLag(pool, new Date(0))).unappended > 0) await new Promise((res) => setTimeout(res, 200));
    await stopChild(service!);
    const ceiling = async (name: string, call: (i: number) => Promise<boolean>): Promise<Result> => {
      const pgCpu0 = pgCpu();
      const dynamoCpu0 = treeCpuMs(dynamo.child.pid!);
      const r = await load(name, call);
      const allocations = r.ok + r.failed;
      process.stdout.write(
        `  ${''.padEnd(34)} CPU ms/alloc: PostgreSQL ${perAlloc(pgCpu0, pgCpu())(allocations)}, ${dynamoCpuLabel(dynamoKind)} ${((treeCpuMs(dynamo.child.pid!) - dynamoCpu0) / allocations).toFixed(2)} (the service is stopped)\n`,
      );
      return r;
    };
    process.stdout.write('1. the raw SQL ceiling, the service stopped\n');
    const manyRaw = await ceiling('many skus: raw SQL through pg', (i) => rawAllocate(pool, `raw-many-${i}`, random(), 1));
    const hotRaw = await ceiling('hot sku: raw SQL through pg', (i) => rawAllocate(pool, `raw-hot-${i}`, 'HOT', 1));
    service = startService(false);
    await waitForService();
    process.stdout.write('2. the service (gRPC AllocateStock), after it appended the raw runs\' events\n');
    const manySvc = await measured('many skus (a random sku per call)', (i) => allocate(random())(i));
    const hotSvc = await measured('hot sku (the same sku per call)', allocate('HOT'));

    const ratio = (a: Result, b: Result) => (a.perSecond / b.perSecond).toFixed(2);
    process.stdout.write(`\nservice / ceiling: many skus ${ratio(manySvc, manyRaw)} (target >= 1.0), hot sku ${ratio(hotSvc, hotRaw)} (target >= 2.0); load average ${os.loadavg()[0]!.toFixed(1)}\n`);
    process.stdout.write(eventStoreNote(dynamoKind));
    if (AUDITOR) {
      // The same service runs with the online integrity auditor on (docs/integrity.md): what it costs.
      await stopChild(service);
      service = startService(true);
      await waitForService();
      // In production the auditor runs all the time; here it first audits the seeding and the
      // runs above. Measure it caught up (steady state), as it would be before a load arrives.
      const auditState = async () =>
        (
          await pool.query<{ audited: string; last: string; streams: string }>(
            `select a.position as audited, f.last_position as last,
                    (select count(distinct stream_id) from event_outbox where position > a.position) as streams
               from integrity_audit a, event_feed f where a.id = 1 and f.id = 1`,
          )
        ).rows[0];
      const catchUpStart = Date.now();
      let caughtUp = true;
      for (let s = await auditState(); s === undefined || s.audited !== s.last; s = await auditState()) {
        if (Date.now() - catchUpStart > CATCH_UP_MS) {
          // Runs 1-2 wrote more than its budget audits in that time: measure it still catching
          // up, i.e. spending its whole budget (the most it can cost), and say so.
          caughtUp = false;
          process.stdout.write(`  the auditor had not caught up after ${CATCH_UP_MS / 1000} s (at feed position ${s?.audited} of ${s?.last}); measured while it catches up, at its full budget\n`);
          break;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      const catchUpSeconds = ((Date.now() - catchUpStart) / 1000).toFixed(0);
      process.stdout.write(
        `3. with the integrity auditor on (AUDIT_ENABLED=true, its defaults; ${caughtUp ? `it audited the seeding and runs 1-2 in ${catchUpSeconds} s first` : `still catching up after ${catchUpSeconds} s`})\n`,
      );
      const manyAudited = await measured('service, many skus, auditor on', (i) => allocate(random())(`a${i}`));
      const hotAudited = await measured('service, hot sku, auditor on', (i) => allocate('HOT')(`a${i}`));
      // Whether the auditor kept up with the defaults (docs/integrity.md): its checkpoint against the feed.
      const audit = await auditState();
      process.stdout.write(`  auditor at feed position ${audit?.audited} of ${audit?.last}: ${Number(audit?.last) - Number(audit?.audited)} events (${audit?.streams} streams) not audited yet\n`);
      // And off again: the tables grew meanwhile, so "off" is the mean of a run before and after.
      await stopChild(service);
      service = startService(false);
      await waitForService();
      process.stdout.write('4. the auditor off again (restarted)\n');
      const manyAfter = await measured('service, many skus, auditor off', (i) => allocate(random())(`b${i}`));
      const hotAfter = await measured('service, hot sku, auditor off', (i) => allocate('HOT')(`b${i}`));
      const meanOff = (a: Result, b: Result): Result => ({ ...a, perSecond: (a.perSecond + b.perSecond) / 2 });
      process.stdout.write(
        `auditor on / off (mean of the runs before and after): many skus ${ratio(manyAudited, meanOff(manySvc, manyAfter))}, hot sku ${ratio(hotAudited, meanOff(hotSvc, hotAfter))} (target >= 0.95); ` +
          `off after / off before: ${ratio(manyAfter, manySvc)}, ${ratio(hotAfter, hotSvc)}\n`,
      );
    }
    await pool.end();
    for (const c of clients) c.close();
  } finally {
    if (service !== undefined) await stopChild(service);
    for (const child of children.reverse()) await stopChild(child);
    await pgServer?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
