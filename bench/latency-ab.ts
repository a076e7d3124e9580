import type { ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import pg from 'pg';
import { EmbeddedPostgres } from '../src/embedded/postgres.js';
import { AllocateStockRequest, InventoryServiceClient } from '../src/gen/inventory/v1/inventory_service.js';
import { createLogger } from '../src/log.js';
import { cpuMsOf } from './measure.js';
import { eventsTable, freePort, startChild, stopChild, waitServing } from './processes.js';
import { rawAllocate } from './raw-allocate.js';

/**
 * `node dist/bench/latency-ab.js`: bench-latency's one sequential caller, for an A/B of two
 * service builds or settings measured in the same minute. Both services run side by side
 * (one PostgreSQL server, a database each; one DynamoDB API, a table each), and the caller
 * alternates blocks of calls between raw SQL, A and B, so a shared machine's load, which
 * moves within a minute, falls on both alike. Between blocks it pauses 50 ms, so one
 * service's after-commit work does not run into the other's first call.
 *
 *   BENCH_CALLS (default 400)   measured AllocateStock calls per kind (after 100 of warm-up)
 *   BENCH_A_DIST, BENCH_B_DIST  the builds' dist directories (default: ./dist for both)
 *   BENCH_A_ENV, BENCH_B_ENV    extra service environment, "NAME=value NAME=value"
 *   BENCH_C_..., BENCH_D_..., BENCH_E_...  more variants, measured alike when either is set
 *   AUDIT_ENABLED (default false here), as in bench-latency
 */
const CALLS = Number(process.env.BENCH_CALLS ?? 400);
const WARMUP = 100;
const BLOCK = 20;
const SKUS = 200;
const log = createLogger('warn');

type Call = (i: number) => Promise<unknown>;

function quantiles(ms: number[]): { p50: number; p99: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => Math.round((s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? 0) * 100) / 100;
  return { p50: at(0.5), p99: at(0.99) };
}

function envOf(spec: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of (spec ?? '').split(' ').filter((p) => p !== '')) {
    const i = pair.indexOf('=');
    if (i > 0) env[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return env;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-bench-latency-ab-'));
  await chmod(dir, 0o755);
  const children: ChildProcess[] = [];
  const clients: InventoryServiceClient[] = [];
  const pgServer = new EmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: await freePort(), database: 'bench', log });
  try {
    await pgServer.start();
    const admin = new pg.Client({ connectionString: pgServer.url });
    await admin.connect();
    const names = ['A', 'B', ...['C', 'D', 'E'].filter((n) => process.env[`BENCH_${n}_DIST`] !== undefined || process.env[`BENCH_${n}_ENV`] !== undefined)];
    for (const n of names) await admin.query(`create database bench_${n.toLowerCase()}`);
    await admin.end();
    const dynamo = startChild([path.resolve('dist/bench/dynamodb-server.js')], {});
    children.push(dynamo.child);
    const [dynamoEndpoint = '', dynamoKind = ''] = (await dynamo.firstLine).split(' ');

    const services = await Promise.all(
      names.map(async (name) => {
        const dist = path.resolve(process.env[`BENCH_${name}_DIST`] ?? 'dist');
        const extra = envOf(process.env[`BENCH_${name}_ENV`]);
        const port = await freePort();
        const url = new URL(pgServer.url);
        url.pathname = `/bench_${name.toLowerCase()}`;
        const service = startChild([path.join(dist, 'src/main.js')], {
          GRPC_PORT: String(port),
          METRICS_PORT: '0',
          DATABASE_URL: url.toString(),
          DYNAMODB_ENDPOINT: dynamoEndpoint,
          EVENTS_TABLE: eventsTable(`latency-${name.toLowerCase()}`),
          DATA_DIR: path.join(dir, name),
          LOG_LEVEL: 'warn',
          AUDIT_ENABLED: process.env.AUDIT_ENABLED ?? 'false',
          ...extra,
        });
        service.firstLine.catch(() => undefined);
        children.push(service.child);
        await waitServing(`127.0.0.1:${port}`, 120_000);
        const client = new InventoryServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
        clients.push(client);
        const unary = <Req, Res>(method: string, req: Req): Promise<Res> =>
          new Promise((resolve, reject) =>
            (client as unknown as Record<string, Function>)[method]!.call(client, req, new Metadata(), (err: Error | null, res: Res) =>
              err ? reject(err) : resolve(res),
            ),
          );
        return { name, dist, extra, unary, pid: service.child.pid!, database: `bench_${name.toLowerCase()}` };
      }),
    );

    const skus = Array.from({ length: SKUS }, (_, i) => `SKU-${String(i).padStart(4, '0')}`);
    for (const s of services) {
      await s.unary('createWarehouse', { code: 'W1', name: 'One', region: 'eu', priority: 1, active: true });
      for (const sku of skus) {
        await s.unary('createItem', { sku, name: sku, description: '' });
        await s.unary('receiveStock', { sku, warehouseCode: 'W1', quantity: 1_000_000n, reference: 'seed', idempotencyKey: '' });
      }
    }
    const rawUrl = new URL(pgServer.url);
    rawUrl.pathname = '/bench_a';
    const pool = new pg.Pool({ connectionString: rawUrl.toString(), max: 1, idleTimeoutMillis: 0 });
    const rawPid = (await pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    // CPU of each service process, and of the PostgreSQL backends serving its database
    // (backends that exit during the measurement are missed; the pool keeps its own).
    const observer = new pg.Client({ connectionString: pgServer.url });
    await observer.connect();
    const backendCpu = async (): Promise<Map<string, Map<number, number>>> => {
      const { rows } = await observer.query<{ pid: number; datname: string }>(
        `select pid, datname from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid() and pid <> $1`,
        [rawPid],
      );
      const by = new Map<string, Map<number, number>>();
      for (const r of rows) {
        try {
          const m = by.get(r.datname) ?? new Map<number, number>();
          m.set(r.pid, cpuMsOf(r.pid));
          by.set(r.datname, m);
        } catch {
          // exited meanwhile
        }
      }
      return by;
    };
    const sku = (i: number) => skus[(i + SKUS) % SKUS]!;
    const kinds: Array<{ name: string; call: Call }> = [
      { name: 'raw SQL allocation through pg', call: (i) => rawAllocate(pool, `raw-${i}`, sku(i), 1) },
      ...services.map((s) => ({
        name: `AllocateStock ${s.name}`,
        call: (i: number) => s.unary('allocateStock', AllocateStockRequest.fromPartial({ allocationId: `svc-${i}`, lines: [{ sku: sku(i), quantity: 1n }] })),
      })),
    ];

    for (const s of services) process.stdout.write(`${s.name}: ${s.dist} ${JSON.stringify(s.extra)}\n`);
    process.stdout.write(
      `one caller, sequential, ${CALLS} calls per kind in alternating blocks of ${BLOCK}, DynamoDB API: ${dynamoKind}, ${os.cpus().length} cpus, load average ${os.loadavg()[0]!.toFixed(1)}\n`,
    );
    for (const { call } of kinds) for (let i = 0; i < WARMUP; i++) await call(-1 - i);
    const ms = kinds.map((): number[] => []);
    const serviceCpu0 = services.map((s) => cpuMsOf(s.pid));
    const pgCpu0 = await backendCpu();
    for (let start = 0; start < CALLS; start += BLOCK) {
      for (const [k, { call }] of kinds.entries()) {
        await new Promise((r) => setTimeout(r, 50));
        for (let i = start; i < Math.min(CALLS, start + BLOCK); i++) {
          const t0 = performance.now();
          await call(i);
          ms[k]!.push(performance.now() - t0);
        }
      }
    }
    const serviceCpu = services.map((s, i) => cpuMsOf(s.pid) - serviceCpu0[i]!);
    const pgCpu1 = await backendCpu();
    const pgCpu = services.map((s) => {
      let total = 0;
      for (const [pid, ms1] of pgCpu1.get(s.database) ?? []) total += ms1 - (pgCpu0.get(s.database)?.get(pid) ?? 0);
      return total;
    });
    await observer.end();
    const q = kinds.map(({ name }, k) => {
      const r = quantiles(ms[k]!);
      process.stdout.write(`  ${name.padEnd(36)} p50 ${r.p50.toFixed(2).padStart(7)} ms  p99 ${r.p99.toFixed(2).padStart(7)} ms\n`);
      return r;
    });
    for (const [i, s] of services.entries()) {
      process.stdout.write(
        `  ${s.name}: CPU per AllocateStock while measured (with its after-commit work and idle jobs): service ${(serviceCpu[i]! / CALLS).toFixed(3)} ms, PostgreSQL backends ${(pgCpu[i]! / CALLS).toFixed(3)} ms\n`,
      );
    }
    const raw = q[0]!;
    const a = q[1]!;
    process.stdout.write(
      `\n${services.map((s, i) => `${s.name} / raw: p50 ${(q[i + 1]!.p50 / raw.p50).toFixed(2)}x, p99 ${(q[i + 1]!.p99 / raw.p99).toFixed(2)}x`).join('; ')}\n` +
        `${services
          .slice(1)
          .map((s, i) => `${s.name} / A: p50 ${(q[i + 2]!.p50 / a.p50).toFixed(2)}x, p99 ${(q[i + 2]!.p99 / a.p99).toFixed(2)}x`)
          .join('; ')}; load average ${os.loadavg()[0]!.toFixed(1)}\n`,
    );
    await pool.end();
  } finally {
    for (const c of clients) c.close();
    for (const child of children.reverse()) await stopChild(child);
    await pgServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
