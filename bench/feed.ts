import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { credentials, Metadata, status, type ChannelOptions, type ServiceError } from '@grpc/grpc-js';
import pg from 'pg';
import { EmbeddedPostgres } from '../src/embedded/postgres.js';
import { createDynamoClient, DynamoAppender } from '../src/events/dynamo-appender.js';
import type { EventEnvelope } from '../src/events/types.js';
import { EventServiceClient, StreamEventsRequest, SubscribeEventsRequest, type SubscribeEventsResponse } from '../src/gen/inventory/v1/event_service.js';
import { InventoryServiceClient } from '../src/gen/inventory/v1/inventory_service.js';
import { createLogger } from '../src/log.js';
import { ChildInspector, type ChildMemory } from './inspector.js';
import { eventsTable, freePort, stopChild, waitServing } from './processes.js';
import { runLoad } from './load.js';

/**
 * The event-feed benchmark (run by hand: `make bench-feed`). One run, on this machine:
 *
 * 1. The service in its own process, DynamoDB in another (bench/dynamodb-server.ts: DynamoDB
 *    Local, or dynalite with EMBEDDED_DYNAMODB=dynalite). For 0, 1,000 and 5,000
 *    idle SubscribeEvents streams (filtered so that nothing written matches them) plus a few
 *    subscribers that do match, it measures PostgreSQL transactions per second (from
 *    pg_stat_database: first with no writes, then under a fixed closed-loop write load of
 *    ReceiveStock calls), the write throughput relative to 0 idle subscribers, the latency
 *    from the write's commit (PostgreSQL's commit timestamp of the transaction that wrote
 *    the event's stock movement, track_commit_timestamp) to the event's arrival at a
 *    matching subscriber (also from occurred_at, taken when the writing transaction began,
 *    and from the write's response, as earlier rounds reported), and the service's memory
 *    per idle subscriber: heap after a forced full GC (through the service's inspector) and
 *    RSS.
 * 2. BENCH_STREAM_CALLS (default 300) concurrent StreamEvents over one stream of
 *    BENCH_STREAM_EVENTS (default 5,000) events, while other callers run GetItem and a small
 *    write load keeps the outbox relay busy: every call's final status, GetItem latency
 *    before and during the burst, and the relay backlog (outbox rows not yet in DynamoDB).
 *
 * Environment: BENCH_SUBSCRIBERS (default "0,1000,5000,0": the last row, with the idle ones
 * closed again, shows the drift of the run; ratios are to the mean of the rows with 0), BENCH_WRITERS (in flight, default 16),
 * BENCH_SECONDS (per measurement, default 8), BENCH_WARMUP_SECONDS (the write load before the first row, default 20), BENCH_SERVICE_ENV (extra service env, "A=1,B=2"),
 * BENCH_SERVICE_DIST (the service build to measure, default this one's dist/: a copy of
 * another commit's dist/ inside this checkout gives a before/after with the same bench),
 * BENCH_STREAM_CALLS, BENCH_STREAM_EVENTS, BENCH_STREAM_DEADLINE_MS (per call, default 600 s),
 * BENCH_STREAM_RETRY (1: a call told RESOURCE_EXHAUSTED retries after 1-2 s until its deadline),
 * BENCH_HEAP_TOP (N > 0: a heap snapshot per row, and the N names that grew most, per idle subscriber),
 * BENCH_CPU_PROFILE (a directory: the service's CPU profile during each row's write load,
 * `feed-<row>-<n>subs.cpuprofile`, opened by Chrome's DevTools).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
// Ends at 0 again: the machine's (and the JITs') drift during a run shows as the difference
// between the two rows with none, and the ratios are taken against their mean.
const SUBSCRIBERS = (process.env.BENCH_SUBSCRIBERS ?? '0,1000,5000,0').split(',').map(Number);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 20);
const STREAM_CALLS = Number(process.env.BENCH_STREAM_CALLS ?? 300);
const STREAM_EVENTS = Number(process.env.BENCH_STREAM_EVENTS ?? 5000);
const STREAM_DEADLINE_MS = Number(process.env.BENCH_STREAM_DEADLINE_MS ?? 600_000);
const STREAM_RETRY = process.env.BENCH_STREAM_RETRY === '1';
const HEAP_TOP = Number(process.env.BENCH_HEAP_TOP ?? 0);
const CPU_PROFILE = process.env.BENCH_CPU_PROFILE;
const SERVICE_DIST = path.resolve(process.env.BENCH_SERVICE_DIST ?? path.join(here, '..'));
const MATCHING = 5;
const CHANNELS = 8;
const log = createLogger('warn');


const rssKb = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? Number.NaN);
};

const quantile = (values: number[], q: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

function unary<Req, Res>(
  method: (req: Req, metadata: Metadata, options: { deadline: number }, callback: (err: ServiceError | null, res: Res) => void) => unknown,
  deadlineMs = 30_000,
): (req: Req) => Promise<Res> {
  return (req) =>
    new Promise((resolve, reject) => method(req, new Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res))));
}

interface Row {
  subscribers: number;
  idleXactPerSec: number;
  loadXactPerSec: number;
  writesPerSec: number;
  writeErrors: number;
  deliveryP50: number;
  deliveryP99: number;
  returnP50: number;
  returnP99: number;
  commitP50: number;
  commitP99: number;
  delivered: number;
  committed: number;
  rssKb: number;
  memory: ChildMemory;
  failedSubscriptions: number;
}

async function main(): Promise<void> {
  const cleanups: Array<() => Promise<void>> = [];
  try {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-bench-feed-'));
    await chmod(dir, 0o755);
    // Commit timestamps: the delivery latency is measured from each write's commit.
    const pgServer = new EmbeddedPostgres({
      dataDir: path.join(dir, 'data'),
      port: await freePort(),
      database: 'inventory',
      log,
      settings: { track_commit_timestamp: 'on' },
    });
    await pgServer.start();
    cleanups.push(async () => {
      await pgServer.stop();
      await rm(dir, { recursive: true, force: true });
    });
    const databaseUrl = pgServer.url;

    const dynamo = spawn(process.execPath, [path.join(here, 'dynamodb-server.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => stopChild(dynamo));
    const [dynamoEndpoint, dynamoKind] = await new Promise<string[]>((resolve, reject) => {
      dynamo.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim().split(' ')));
      dynamo.once('exit', () => reject(new Error('the DynamoDB server exited')));
    });
    if (dynamoEndpoint === undefined) throw new Error('no DynamoDB endpoint');

    const table = eventsTable('feed');
    const servicePort = await freePort();
    const extraEnv = Object.fromEntries(
      (process.env.BENCH_SERVICE_ENV ?? '')
        .split(',')
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    const inspectPort = await freePort();
    const service = spawn(process.execPath, [`--inspect=127.0.0.1:${inspectPort}`, path.join(SERVICE_DIST, 'src/main.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: databaseUrl,
        DYNAMODB_ENDPOINT: dynamoEndpoint,
        EVENTS_TABLE: table,
        GRPC_PORT: String(servicePort),
        LOG_LEVEL: 'error',
        CACHE_STATS_INTERVAL_MS: '0',
        METRICS_PORT: '0', // the default port may be taken by another service on this machine
        ...extraEnv,
      },
      // The service's log (one line per failed call) would drown the results; stderr shows a crash.
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    cleanups.push(() => stopChild(service));
    const address = `127.0.0.1:${servicePort}`;
    await waitServing(address, 120_000);
    const inspector = await ChildInspector.connect(inspectPort);
    cleanups.push(async () => inspector.close());
    process.stdout.write(`service ${SERVICE_DIST}, DynamoDB ${dynamoKind ?? 'unknown'}\n`);

    const inventory = new InventoryServiceClient(address, credentials.createInsecure());
    // Several connections, as several client processes would have.
    const channelOptions = (i: number): ChannelOptions => ({ 'grpc.use_local_subchannel_pool': 1, 'grpc.bench_channel': i });
    const feedClients = Array.from({ length: CHANNELS }, (_, i) => new EventServiceClient(address, credentials.createInsecure(), channelOptions(i)));
    cleanups.push(async () => {
      inventory.close();
      for (const c of feedClients) c.close();
    });
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    cleanups.push(() => db.end());
    const xacts = async () =>
      Number(
        (await db.query<{ n: string }>('select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()')).rows[0]!
          .n,
      );

    const createItem = unary(inventory.createItem.bind(inventory));
    const createWarehouse = unary(inventory.createWarehouse.bind(inventory));
    const receiveStock = unary(inventory.receiveStock.bind(inventory));
    const getItem = unary(inventory.getItem.bind(inventory), 10_000);
    await createWarehouse({ code: 'BW', name: 'Bench', region: 'eu', priority: 1, active: true });
    for (let w = 0; w < WRITERS; w++) await createItem({ sku: `BENCH-${w}`, name: `bench ${w}`, description: '' });
    let next = 0;
    // When each write's response arrived, by stream and version: the delivery latency is
    // measured from there (commit happened before it) and from occurred_at (set before commit).
    const returned = new Map<string, number>();
    const write = async () => {
      const sku = `BENCH-${next++ % WRITERS}`;
      const res = (await receiveStock({ sku, warehouseCode: 'BW', quantity: 1n, reference: 'bench', idempotencyKey: '' })) as {
        stockLevel?: { version: bigint };
      };
      if (res.stockLevel) returned.set(`stock#${sku}#BW/${res.stockLevel.version}`, Date.now());
    };

    // Subscribers that match the write load: delivery latency.
    let latencies: number[] = [];
    let sinceReturn: number[] = [];
    const early: Array<{ key: string; at: number }> = [];
    let matchingFailures = 0;
    for (let i = 0; i < MATCHING; i++) {
      const call = feedClients[i % CHANNELS]!.subscribeEvents(
        SubscribeEventsRequest.fromPartial({ start: { $case: 'fromNow', value: true }, streamIdPrefix: 'stock#BENCH-', eventTypes: ['StockReceived'] }),
      );
      call.on('data', (m: SubscribeEventsResponse) => {
        const now = Date.now();
        const at = m.event?.occurTime;
        if (at) latencies.push(now - at.getTime());
        // Only the first matching subscriber's copy: one latency per write.
        if (i === 0 && m.event) early.push({ key: `${m.event.streamId}/${m.event.version}`, at: now });
      });
      call.on('error', () => matchingFailures++);
      cleanups.push(async () => call.cancel());
    }

    // Idle subscribers: filtered so that nothing the load writes matches them.
    const idle: Array<{ cancel(): void; failed: boolean }> = [];
    const subscriptionFailures = new Map<string, number>();
    const openIdle = (i: number) => {
      const byPrefix = i % 2 === 0;
      const call = feedClients[i % CHANNELS]!.subscribeEvents(
        SubscribeEventsRequest.fromPartial({
          start: { $case: 'fromNow', value: true },
          ...(byPrefix ? { streamIdPrefix: `item#IDLE-${i}` } : { eventTypes: ['AllocationExpired'] }),
        }),
      );
      const entry = { cancel: () => call.cancel(), failed: false };
      call.on('data', () => undefined);
      call.on('error', (err: ServiceError) => {
        if (err.code === status.CANCELLED) return;
        entry.failed = true;
        const name = status[err.code] ?? String(err.code);
        subscriptionFailures.set(name, (subscriptionFailures.get(name) ?? 0) + 1);
      });
      idle.push(entry);
    };
    cleanups.push(async () => {
      for (const s of idle) s.cancel();
    });

    // A first write load warms the JITs (the service's and DynamoDB Local's), the pools and
    // the caches before anything is measured. 2 s were too short: rows with 0 subscribers
    // in one run then went from 26 to 79 writes/s (docs/event-feed.md).
    await runLoad(write, { inFlight: WRITERS, durationMs: WARMUP_SECONDS * 1000, warmupMs: 500 });

    const rows: Row[] = [];
    let baseHeap: Map<string, { count: number; bytes: number }> | undefined;
    for (const n of SUBSCRIBERS) {
      while (idle.length < n) {
        openIdle(idle.length);
        if (idle.length % 250 === 0) await sleep(50); // let the server accept them in batches
      }
      for (const s of idle.splice(n)) s.cancel();
      await sleep(3000 + n); // every subscription has started (and, before issue 13, run its first queries)
      const memory = await inspector.memoryAfterGc();
      if (HEAP_TOP > 0) {
        const heap = await inspector.heapByName();
        if (n > 0 && baseHeap !== undefined) {
          const grown = [...heap]
            .map(([name, e]) => ({ name, count: e.count - (baseHeap!.get(name)?.count ?? 0), bytes: e.bytes - (baseHeap!.get(name)?.bytes ?? 0) }))
            .sort((a, b) => b.bytes - a.bytes)
            .slice(0, HEAP_TOP);
          process.stdout.write(`heap growth per idle subscriber at ${n} (objects, bytes):\n`);
          for (const g of grown) process.stdout.write(`  ${g.name.slice(0, 60).padEnd(60)} ${f2(g.count / n).padStart(7)} ${f1(g.bytes / n).padStart(8)}\n`);
        } else baseHeap = heap;
      }
      const rss = rssKb(service.pid!);
      const x0 = await xacts();
      const t0 = Date.now();
      await sleep(SECONDS * 500);
      const idleRate = ((await xacts()) - x0 - 1) / ((Date.now() - t0) / 1000);
      latencies = [];
      early.length = 0;
      returned.clear();
      const x1 = await xacts();
      if (CPU_PROFILE !== undefined) await inspector.startProfile();
      const t1 = Date.now();
      const load = await runLoad(write, { inFlight: WRITERS, durationMs: SECONDS * 1000, warmupMs: 0 });
      if (CPU_PROFILE !== undefined) {
        await mkdir(CPU_PROFILE, { recursive: true });
        await writeFile(path.join(CPU_PROFILE, `feed-${rows.length + 1}-${n}subs.cpuprofile`), await inspector.stopProfile());
      }
      const loadRate = ((await xacts()) - x1 - 1) / ((Date.now() - t1) / 1000);
      await sleep(1000); // deliveries in flight arrive
      // When each write of this row committed: the transaction that inserted its stock
      // movement (never updated, so xmin is the write's own transaction).
      const commits = new Map(
        (
          await db.query<{ sku: string; stock_version: string; at: number }>(
            `select sku, stock_version, extract(epoch from pg_xact_commit_timestamp(xmin)) * 1000 as at
               from stock_movement where warehouse_code = 'BW' and created_at >= $1`,
            [new Date(t1 - 1000)],
          )
        ).rows.map((r) => [`stock#${r.sku}#BW/${r.stock_version}`, Number(r.at)]),
      );
      const sinceCommit = early.flatMap(({ key, at }) => {
        const c = commits.get(key);
        return c === undefined ? [] : [at - c];
      });
      // A delivery may beat the writer's response (negative): the commit was before both.
      sinceReturn = early.flatMap(({ key, at }) => {
        const r = returned.get(key);
        return r === undefined ? [] : [at - r];
      });
      rows.push({
        subscribers: n,
        idleXactPerSec: idleRate,
        loadXactPerSec: loadRate,
        writesPerSec: load.perSecond,
        writeErrors: load.errors,
        deliveryP50: quantile(latencies, 0.5),
        deliveryP99: quantile(latencies, 0.99),
        returnP50: quantile(sinceReturn, 0.5),
        returnP99: quantile(sinceReturn, 0.99),
        commitP50: quantile(sinceCommit, 0.5),
        commitP99: quantile(sinceCommit, 0.99),
        delivered: latencies.length,
        committed: sinceCommit.length,
        rssKb: rss,
        memory,
        failedSubscriptions: idle.filter((s) => s.failed).length + matchingFailures,
      });
      process.stdout.write(`measured ${n} idle subscribers\n`);
    }
    for (const s of idle.splice(0)) s.cancel();

    const base = rows[0]!;
    const none = rows.filter((r) => r.subscribers === 0);
    const baseWrites = none.reduce((sum, r) => sum + r.writesPerSec, 0) / none.length;
    process.stdout.write(
      `\nSubscribeEvents: ${WRITERS} ReceiveStock calls in flight for ${SECONDS} s per row, ${MATCHING} matching subscribers, service in its own process\n`,
    );
    process.stdout.write(`idle subs | PG xact/s idle | PG xact/s load | writes/s | vs 0 subs (mean of ${none.length} rows) | write errors | delivery ms after commit p50 / p99 (n) | after occurred_at p50 / p99 | after the write returned p50 / p99 | RSS MB | KB RSS per idle sub | heap MB after GC | KB heap per idle sub | failed subs\n`);
    for (const r of rows) {
      const perSub = r.subscribers === 0 ? Number.NaN : (r.rssKb - base.rssKb) / r.subscribers;
      const heapPerSub = r.subscribers === 0 ? Number.NaN : (r.memory.heapUsed - base.memory.heapUsed) / 1024 / r.subscribers;
      process.stdout.write(
        `${String(r.subscribers).padStart(9)} | ${f1(r.idleXactPerSec).padStart(14)} | ${f1(r.loadXactPerSec).padStart(14)} | ${f1(r.writesPerSec).padStart(8)} | ${f2(r.writesPerSec / baseWrites).padStart(8)}x | ${String(r.writeErrors).padStart(12)} | ${f1(r.commitP50)} / ${f1(r.commitP99)} (${r.committed}) | ${f1(r.deliveryP50)} / ${f1(r.deliveryP99)} | ${f1(r.returnP50)} / ${f1(r.returnP99)} | ${f1(r.rssKb / 1024)} | ${f1(perSub)} | ${f1(r.memory.heapUsed / 1024 / 1024)} | ${f1(heapPerSub)} | ${r.failedSubscriptions}\n`,
      );
    }

    if (subscriptionFailures.size > 0) {
      process.stdout.write(`idle subscriptions that failed, by status: ${[...subscriptionFailures].map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    }

    if (STREAM_CALLS === 0) return;
    // StreamEvents burst.
    process.stdout.write(`\nwriting ${STREAM_EVENTS} events to warehouse#BURST ...\n`);
    const dynamoClient = createDynamoClient({ endpoint: dynamoEndpoint, region: 'us-east-1', table });
    cleanups.push(async () => dynamoClient.destroy());
    const appender = new DynamoAppender(dynamoClient, table, log);
    const at = new Date();
    const batch: EventEnvelope[] = [];
    for (let v = 1; v <= STREAM_EVENTS; v++) {
      batch.push(
        v === 1
          ? { eventId: randomUUID(), streamId: 'warehouse#BURST', version: 1, type: 'WarehouseCreated', schemaVersion: 1, correlationId: 'bench', occurredAt: at, data: { code: 'BURST', name: 'Burst', region: 'eu', priority: 1, active: true } }
          : { eventId: randomUUID(), streamId: 'warehouse#BURST', version: v, type: 'WarehouseUpdated', schemaVersion: 1, correlationId: 'bench', occurredAt: at, data: { code: 'BURST', changes: { priority: v } } },
      );
      if (batch.length === 1000 || v === STREAM_EVENTS) {
        const { failed } = await appender.appendAll(batch.splice(0), 16);
        if (failed > 0) throw new Error(`${failed} appends failed`);
      }
    }
    const backlog = async () =>
      Number((await db.query<{ n: string }>('select count(*) as n from event_outbox where appended_at is null')).rows[0]!.n);
    const sampleBacklog = () => {
      const samples: number[] = [];
      let on = true;
      const loop = (async () => {
        while (on) {
          samples.push(await backlog());
          await sleep(250);
        }
      })();
      return async () => {
        on = false;
        await loop;
        return samples;
      };
    };
    const readers = 4;
    const writers = 2;
    const getItemReq = { sku: 'BENCH-0', consistent: true };
    const background = (ms: number) =>
      Promise.all([
        runLoad(() => getItem(getItemReq), { inFlight: readers, durationMs: ms, warmupMs: 0 }),
        runLoad(write, { inFlight: writers, durationMs: ms, warmupMs: 0 }),
      ]);
    const stopQuiet = sampleBacklog();
    const [quietGets] = await background(4000);
    const quietBacklog = await stopQuiet();

    // Each call's first answer, and (BENCH_STREAM_RETRY=1) its final one after retries.
    const firstCodes = new Map<string, number>();
    const codes = new Map<string, number>();
    const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
    let eventsReceived = 0;
    let attempts = 0;
    let firstRefusalMs = Number.NaN;
    let burstEnd = 0;
    const burstStart = Date.now();
    const attempt = (i: number, deadline: number) =>
      new Promise<{ code: number; received: number }>((resolve) => {
        attempts++;
        let received = 0;
        const call = feedClients[i % CHANNELS]!.streamEvents(StreamEventsRequest.fromPartial({ streamId: 'warehouse#BURST' }), new Metadata(), { deadline });
        call.on('data', () => {
          received++;
          eventsReceived++;
        });
        call.on('error', () => undefined); // counted from 'status', which comes once per call
        call.on('status', (st: { code: number }) => resolve({ code: st.code, received }));
      });
    const nameOf = (code: number, received: number) =>
      code === status.OK && received !== STREAM_EVENTS ? `OK with only ${received} events` : (status[code] ?? String(code));
    const burst = Promise.all(
      Array.from({ length: STREAM_CALLS }, async (_, i) => {
        const deadline = Date.now() + STREAM_DEADLINE_MS;
        let r = await attempt(i, deadline);
        count(firstCodes, nameOf(r.code, r.received));
        if (r.code === status.RESOURCE_EXHAUSTED && Number.isNaN(firstRefusalMs)) firstRefusalMs = Date.now() - burstStart;
        while (STREAM_RETRY && r.code === status.RESOURCE_EXHAUSTED && Date.now() + 2000 < deadline) {
          await sleep(1000 + Math.random() * 1000);
          r = await attempt(i, deadline);
        }
        count(codes, nameOf(r.code, r.received));
        burstEnd = Date.now();
      }),
    );
    const stopBurst = sampleBacklog();
    let duringGets: Awaited<ReturnType<typeof runLoad>> | undefined;
    let burstDone = false;
    void burst.then(() => (burstDone = true));
    // GetItem and writes run alongside the whole burst, in rounds of 2 s.
    const during: Array<Awaited<ReturnType<typeof runLoad>>> = [];
    while (!burstDone) {
      const [g] = await background(2000);
      during.push(g);
    }
    await burst;
    const burstBacklog = await stopBurst();
    duringGets = during.reduce((worst, g) => (g.p99Ms > worst.p99Ms ? g : worst), during[0]!);
    const allCalls = during.reduce((s, g) => s + g.calls, 0);
    const allErrors = during.reduce((s, g) => s + g.errors, 0);
    process.stdout.write(
      `\nStreamEvents: ${STREAM_CALLS} concurrent calls over ${STREAM_EVENTS} events, ${readers} GetItem callers and ${writers} writers alongside\n`,
    );
    const list = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} ${v}`).join(', ');
    const burstSeconds = (burstEnd - burstStart) / 1000;
    process.stdout.write(
      `first answers: ${list(firstCodes)} (first refusal after ${f1(firstRefusalMs)} ms)\n` +
        (STREAM_RETRY ? `final statuses after retrying RESOURCE_EXHAUSTED: ${list(codes)} (${attempts} attempts)\n` : '') +
        `last call ended after ${f1(burstSeconds)} s (deadline ${STREAM_DEADLINE_MS / 1000} s); ${eventsReceived} events received, ${f1(eventsReceived / burstSeconds)} events/s\n`,
    );
    process.stdout.write(
      `GetItem before the burst: p50 ${f1(quietGets.p50Ms)} ms, p99 ${f1(quietGets.p99Ms)} ms (${f1(quietGets.perSecond)}/s)\n` +
        `GetItem during the burst (worst 2 s round of ${during.length}): p50 ${f1(duringGets.p50Ms)} ms, p99 ${f1(duringGets.p99Ms)} ms; ${allCalls} calls, ${allErrors} errors\n` +
        `GetItem p99 during / before: ${f2(duringGets.p99Ms / quietGets.p99Ms)}x\n` +
        `relay backlog (outbox rows not in DynamoDB): before max ${Math.max(...quietBacklog)}, during max ${Math.max(...burstBacklog)}, at the end ${burstBacklog.at(-1)}\n`,
    );
    process.stdout.write('\nThis machine is shared with other work: absolute numbers drift; compare within one run.\n');
  } finally {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
