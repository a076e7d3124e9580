import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

/** Linux's clock ticks per second for /proc/<pid>/stat (USER_HZ, 100 on every common build). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, ms) another process has used so far: what that process's own
 * `process.cpuUsage()` would return, read from /proc without touching the process.
 */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/**
 * CPU time (ms) of a process and all its descendants alive now, plus what its exited
 * children left in its cutime/cstime: the whole PostgreSQL server (postmaster and
 * backends) or the DynamoDB API process with its JVM.
 */
export function treeCpuMs(rootPid: number): number {
  const children = new Map<number, number[]>();
  const stats = new Map<number, string[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(name);
      stats.set(pid, fields);
      const ppid = Number(fields[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // the process exited while we listed /proc
    }
  }
  let ticks = 0;
  const walk = (pid: number, root: boolean) => {
    const f = stats.get(pid);
    if (f === undefined) return;
    ticks += Number(f[11]) + Number(f[12]) + (root ? Number(f[13]) + Number(f[14]) : 0);
    for (const c of children.get(pid) ?? []) walk(c, false);
  };
  walk(rootPid, true);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** The postmaster's pid, from the first line of the data directory's postmaster.pid. */
export function postmasterPid(dataDir: string): number {
  return Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
}

/** Requests per DynamoDB operation seen so far by the bench's counting proxy (bench/dynamodb-server.ts). */
export async function dynamoCounts(endpoint: string): Promise<Record<string, number>> {
  const res = await fetch(`${endpoint}/__counts`);
  return (await res.json()) as Record<string, number>;
}

export function countsSince(before: Record<string, number>, after: Record<string, number>): { total: number; byOperation: Record<string, number> } {
  const byOperation: Record<string, number> = {};
  let total = 0;
  for (const [op, n] of Object.entries(after)) {
    const d = n - (before[op] ?? 0);
    if (d > 0) {
      byOperation[op] = d;
      total += d;
    }
  }
  return { total, byOperation };
}

/**
 * Commit -> DynamoDB lag of the events written since `since`: from the event's time in the
 * transaction to the relay marking it appended (after DynamoDB confirmed it), p50/p99 in ms.
 * Events still unappended count as lagging until `now`.
 */
export async function appendLag(pool: pg.Pool, since: Date): Promise<{ events: number; p50: number; p99: number; unappended: number }> {
  const { rows } = await pool.query<{ events: number; p50: number | null; p99: number | null; unappended: number }>(
    `select count(*)::int as events,
            percentile_cont(0.5) within group (order by lag) as p50,
            percentile_cont(0.99) within group (order by lag) as p99,
            count(*) filter (where appended_at is null)::int as unappended
       from (select appended_at, extract(epoch from (coalesce(appended_at, now()) - occurred_at)) * 1000 as lag
               from event_outbox where occurred_at >= $1) t`,
    [since],
  );
  const r = rows[0]!;
  return { events: r.events, p50: Math.round(r.p50 ?? 0), p99: Math.round(r.p99 ?? 0), unappended: r.unappended };
}

/**
 * Commit -> DynamoDB lag of the events written since `since`, to DynamoDB's answer that
 * stored each one (seen by the bench's proxy, `GET /__stored`), p50/p99 in ms: the time
 * the relay needed to get the event into DynamoDB, without its `appended_at` mark.
 * Starts at the event's time in its transaction (one clock reading, taken before the
 * transaction's statements run).
 */
export async function storedLag(pool: pg.Pool, endpoint: string, since: Date): Promise<{ events: number; p50: number; p99: number; missing: number }> {
  const stored = (await (await fetch(`${endpoint}/__stored`)).json()) as Record<string, number>;
  const { rows } = await pool.query<{ stream_id: string; version: string; occurred: number }>(
    `select stream_id, version, extract(epoch from occurred_at) * 1000 as occurred from event_outbox where occurred_at >= $1`,
    [since],
  );
  const lags: number[] = [];
  let missing = 0;
  for (const r of rows) {
    const at = stored[`${r.stream_id} ${r.version}`];
    if (at === undefined) missing++;
    else lags.push(at - Number(r.occurred));
  }
  return { events: rows.length, ...percentiles(lags), missing };
}

/**
 * Commit -> DynamoDB's answer, from the **commit** of the event's transaction: PostgreSQL's
 * commit timestamp (`track_commit_timestamp = on`) of the stock movement the transaction
 * inserted with the event, a row nothing updates later, so its `xmin` is that transaction.
 * Stock events only (StockAllocated and the like, one per allocation line): the other events
 * of a transaction commit with them and go through the same relay.
 */
export async function committedLag(pool: pg.Pool, endpoint: string, since: Date): Promise<{ events: number; p50: number; p99: number; missing: number }> {
  const stored = (await (await fetch(`${endpoint}/__stored`)).json()) as Record<string, number>;
  const { rows } = await pool.query<{ stream_id: string; version: string; committed: number }>(
    `select o.stream_id, o.version, extract(epoch from pg_xact_commit_timestamp(m.xmin)) * 1000 as committed
       from event_outbox o
       join stock_movement m
         on m.created_at >= $1 and o.stream_id = 'stock#' || m.sku || '#' || m.warehouse_code and o.version = m.stock_version
      where o.occurred_at >= $1`,
    [since],
  );
  const lags: number[] = [];
  let missing = 0;
  for (const r of rows) {
    const at = stored[`${r.stream_id} ${r.version}`];
    if (at === undefined) missing++;
    else lags.push(at - Number(r.committed));
  }
  return { events: rows.length, ...percentiles(lags), missing };
}

function percentiles(values: number[]): { p50: number; p99: number } {
  values.sort((a, b) => a - b);
  const q = (p: number) => Math.round(values[Math.min(values.length - 1, Math.floor(values.length * p))] ?? 0);
  return { p50: q(0.5), p99: q(0.99) };
}
