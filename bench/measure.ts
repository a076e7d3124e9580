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
