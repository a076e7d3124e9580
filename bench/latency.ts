import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import pg from 'pg';
import { AllocateStockRequest, InventoryServiceClient } from '../src/gen/inventory/v1/inventory_service.js';
import { createLogger } from '../src/log.js';
import { eventsTable, freePort, startChild, stopChild, eventStoreNote } from './processes.js';
import { benchPostgres, type BenchPostgres } from './postgres.js';
import { rawAllocate } from './raw-allocate.js';

/**
 * `make bench-latency`: the latency another service sees, one caller issuing one call at a
 * time: p50/p99 of AllocateStock, ReceiveStock and a cached GetStockLevel, beside the same
 * allocation transaction as raw SQL through `pg`, measured the same way in the same run.
 * Same process tree as bench-allocation (the service is a child process). The raw SQL and
 * AllocateStock calls alternate in blocks, so that both see the same machine: on a shared
 * machine the load moves within a minute, and measuring one after the other made the ratio
 * swing with it.
 *
 *   BENCH_CALLS (default 400) measured calls per kind (after 100 of warm-up)
 *   AUDIT_ENABLED (default false here) the integrity auditor in the service: its cost is
 *     measured by bench-allocation (docs/integrity.md); on, it adds its DynamoDB reads to
 *     every call's machine
 */
const CALLS = Number(process.env.BENCH_CALLS ?? 400);
const WARMUP = 100;
/** Calls per block when raw SQL and AllocateStock alternate. */
const BLOCK = 20;
const SKUS = 200;
const log = createLogger('warn');

function quantiles(ms: number[]): { p50: number; p99: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => Math.round((s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? 0) * 100) / 100;
  return { p50: at(0.5), p99: at(0.99) };
}

type Call = (i: number) => Promise<unknown>;

function print(name: string, q: { p50: number; p99: number }): void {
  process.stdout.write(`  ${name.padEnd(36)} p50 ${q.p50.toFixed(2).padStart(7)} ms  p99 ${q.p99.toFixed(2).padStart(7)} ms\n`);
}

/** Each call kind warmed up, then all measured in alternating blocks of BLOCK calls. */
async function alternating(kinds: ReadonlyArray<{ name: string; call: Call }>): Promise<Array<{ p50: number; p99: number }>> {
  for (const { call } of kinds) for (let i = 0; i < WARMUP; i++) await call(-1 - i);
  const ms = kinds.map((): number[] => []);
  for (let start = 0; start < CALLS; start += BLOCK) {
    for (const [k, { call }] of kinds.entries()) {
      for (let i = start; i < Math.min(CALLS, start + BLOCK); i++) {
        const t0 = performance.now();
        await call(i);
        ms[k]!.push(performance.now() - t0);
      }
    }
  }
  return kinds.map(({ name }, k) => {
    const q = quantiles(ms[k]!);
    print(name, q);
    return q;
  });
}

async function sequential(name: string, call: Call): Promise<{ p50: number; p99: number }> {
  const [q] = await alternating([{ name, call }]);
  return q!;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-bench-latency-'));
  await chmod(dir, 0o755);
  const children: ChildProcess[] = [];
  let pgServer: BenchPostgres | undefined;
  try {
    pgServer = await benchPostgres(dir, 'latency', log);
    const dynamo = startChild([path.resolve('dist/bench/dynamodb-server.js')], {});
    children.push(dynamo.child);
    const [dynamoEndpoint = '', dynamoKind = ''] = (await dynamo.firstLine).split(' ');
    const port = await freePort();
    const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const service = startChild([...nodeArgs, path.resolve('dist/src/main.js')], {
      GRPC_PORT: String(port),
      DATABASE_URL: pgServer.url,
      DYNAMODB_ENDPOINT: dynamoEndpoint,
      EVENTS_TABLE: eventsTable('latency'),
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
      AUDIT_ENABLED: process.env.AUDIT_ENABLED ?? 'false',
    });
    service.firstLine.catch(() => undefined);
    children.push(service.child);
    const client = new InventoryServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const unary = <Req, Res>(method: string, req: Req): Promise<Res> =>
      new Promise((resolve, reject) =>
        (client as unknown as Record<string, Function>)[method]!.call(client, req, new Metadata(), (err: Error | null, res: Res) => (err ? reject(err) : resolve(res))),
      );
    for (let attempt = 0; ; attempt++) {
      try {
        await unary('createWarehouse', { code: 'W1', name: 'One', region: 'eu', priority: 1, active: true });
        break;
      } catch (err) {
        if (attempt > 300) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const skus = Array.from({ length: SKUS }, (_, i) => `SKU-${String(i).padStart(4, '0')}`);
    for (const sku of skus) {
      await unary('createItem', { sku, name: sku, description: '' });
      await unary('receiveStock', { sku, warehouseCode: 'W1', quantity: 1_000_000n, reference: 'seed', idempotencyKey: '' });
    }
    const pool = new pg.Pool({ connectionString: pgServer.url, max: 1 });
    const sku = (i: number) => skus[(i + SKUS) % SKUS]!;

    process.stdout.write(
      `one caller, sequential, ${CALLS} calls each, PostgreSQL: ${pgServer.where}, DynamoDB API: ${dynamoKind}, auditor ${process.env.AUDIT_ENABLED ?? 'false'}, ${os.cpus().length} cpus, load average ${os.loadavg()[0]!.toFixed(1)}\n`,
    );
    process.stdout.write(`raw SQL and AllocateStock alternate in blocks of ${BLOCK} calls:\n`);
    const [raw, alloc] = (await alternating([
      { name: 'raw SQL allocation through pg', call: (i) => rawAllocate(pool, `raw-${i}`, sku(i), 1) },
      { name: 'AllocateStock', call: (i) => unary('allocateStock', AllocateStockRequest.fromPartial({ allocationId: `svc-${i}`, lines: [{ sku: sku(i), quantity: 1n }] })) },
    ])) as [{ p50: number; p99: number }, { p50: number; p99: number }];
    const receive = await sequential('ReceiveStock', (i) => unary('receiveStock', { sku: sku(i), warehouseCode: 'W1', quantity: 1n, reference: 'r', idempotencyKey: '' }));
    await unary('getStockLevel', { sku: 'SKU-0000', warehouseCode: 'W1' });
    const cached = await sequential('GetStockLevel (cached)', () => unary('getStockLevel', { sku: 'SKU-0000', warehouseCode: 'W1' }));
    await pool.end();
    client.close();
    process.stdout.write(
      `\nAllocateStock / raw SQL: p50 ${(alloc.p50 / raw.p50).toFixed(2)}x, p99 ${(alloc.p99 / raw.p99).toFixed(2)}x (target <= 2x)` +
        `; ReceiveStock p50 ${receive.p50} ms, cached read p50 ${cached.p50} ms; load average ${os.loadavg()[0]!.toFixed(1)}\n`,
    );
    process.stdout.write(eventStoreNote(dynamoKind));
  } finally {
    for (const child of children.reverse()) await stopChild(child);
    await pgServer?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
