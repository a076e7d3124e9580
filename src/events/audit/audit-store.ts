import type { Sql } from '../replay/sql.js';
import type { OutboxRow } from './checks.js';
import type { Finding, IntegrityKind } from './findings.js';

export interface Checkpoint {
  readonly position: number;
  readonly sweepKind: string;
  readonly sweepAfter: string;
  readonly sweepsCompleted: number;
  readonly updatedAt: Date | null;
}

export interface StoredFinding extends Finding {
  readonly id: number;
  readonly foundAt: Date;
  readonly resolvedAt: Date | null;
}

/** How many findings are kept; older resolved ones are deleted. */
const KEEP_FINDINGS = 1000;

/** The auditor's tables (`integrity_audit`, `integrity_finding`) and its reads of the feed. */
export const auditStore = {
  async checkpoint(sql: Sql): Promise<Checkpoint> {
    const rows = await sql.query<{ position: string; sweep_kind: string; sweep_after: string; sweeps_completed: number; updated_at: Date | null }>(
      'select position, sweep_kind, sweep_after, sweeps_completed, updated_at from integrity_audit where id = 1',
    );
    const r = rows[0];
    if (r === undefined) throw new Error('integrity_audit has no row: run the migrations');
    return { position: Number(r.position), sweepKind: r.sweep_kind, sweepAfter: r.sweep_after, sweepsCompleted: r.sweeps_completed, updatedAt: r.updated_at };
  },

  async save(sql: Sql, c: Omit<Checkpoint, 'updatedAt'>): Promise<void> {
    await sql.query(
      'update integrity_audit set position = $1, sweep_kind = $2, sweep_after = $3, sweeps_completed = $4, updated_at = now() where id = 1',
      [c.position, c.sweepKind, c.sweepAfter, c.sweepsCompleted],
    );
  },

  /** The next positioned outbox rows after `position`, in feed order. */
  async rowsAfter(sql: Sql, position: number, limit: number): Promise<OutboxRow[]> {
    const rows = await sql.query<{ position: string; stream_id: string; version: string; event_id: string; type: string; payload: unknown; appended: boolean; occurred_at: Date }>(
      `select position, stream_id, version, event_id, type, payload, appended_at is not null as appended, occurred_at
         from event_outbox where position > $1 order by position limit $2`,
      [position, limit],
    );
    return rows.map((r) => ({
      position: Number(r.position),
      streamId: r.stream_id,
      version: Number(r.version),
      eventId: r.event_id,
      type: r.type,
      payload: r.payload,
      appended: r.appended,
      occurredAt: r.occurred_at,
    }));
  },

  /** The newest `perStream` appended outbox rows of each stream still in the outbox (the sweep's event check). */
  async newestRows(sql: Sql, streamIds: readonly string[], perStream: number): Promise<OutboxRow[]> {
    if (streamIds.length === 0) return [];
    const rows = await sql.query<{ position: string | null; stream_id: string; version: string; event_id: string; type: string; payload: unknown; occurred_at: Date }>(
      `select o.position, o.stream_id, o.version, o.event_id, o.type, o.payload, o.occurred_at
         from unnest($1::text[]) as k(stream_id)
         cross join lateral (
           select * from event_outbox e where e.stream_id = k.stream_id and e.appended_at is not null order by e.version desc limit $2
         ) o`,
      [streamIds, perStream],
    );
    return rows.map((r) => ({
      position: Number(r.position ?? 0),
      streamId: r.stream_id,
      version: Number(r.version),
      eventId: r.event_id,
      type: r.type,
      payload: r.payload,
      appended: true,
      occurredAt: r.occurred_at,
    }));
  },

  /** Seconds since the oldest event not yet audited was recorded (0 when caught up), and how many there are. */
  async lag(sql: Sql, position: number, now: Date): Promise<{ seconds: number; events: number }> {
    const rows = await sql.query<{ oldest: Date | null; last: string }>(
      `select (select occurred_at from event_outbox where position > $1 order by position limit 1) as oldest,
              (select last_position from event_feed where id = 1) as last`,
      [position],
    );
    const r = rows[0];
    const oldest = r?.oldest ?? null;
    return {
      seconds: oldest === null ? 0 : Math.max(0, (now.getTime() - oldest.getTime()) / 1000),
      events: Math.max(0, Number(r?.last ?? 0) - position),
    };
  },

  /** Records confirmed findings; a stream with an open finding of the same kind and text is not recorded twice. */
  async record(sql: Sql, findings: readonly Finding[], now: Date): Promise<Finding[]> {
    if (findings.length === 0) return [];
    const rows = await sql.query<{ kind: IntegrityKind; stream_id: string; detail: string }>(
      `insert into integrity_finding (kind, stream_id, detail, found_at)
       select k.kind, k.stream_id, k.detail, $4 from unnest($1::text[], $2::text[], $3::text[]) as k(kind, stream_id, detail)
        where not exists (select 1 from integrity_finding f
                           where f.resolved_at is null and f.stream_id = k.stream_id and f.kind = k.kind and f.detail = k.detail)
       returning kind, stream_id, detail`,
      [findings.map((f) => f.kind), findings.map((f) => f.streamId), findings.map((f) => f.detail), now],
    );
    await sql.query(
      `delete from integrity_finding where resolved_at is not null and id <= (select id from integrity_finding order by id desc offset $1 limit 1)`,
      [KEEP_FINDINGS],
    );
    return rows.map((r) => ({ kind: r.kind, streamId: r.stream_id, detail: r.detail }));
  },

  /** Streams audited again and found sound: their open findings are resolved. */
  async resolve(sql: Sql, streamIds: readonly string[], now: Date): Promise<number> {
    if (streamIds.length === 0) return 0;
    const rows = await sql.query('update integrity_finding set resolved_at = $2 where resolved_at is null and stream_id = any($1) returning id', [streamIds, now]);
    return rows.length;
  },

  async openCount(sql: Sql): Promise<number> {
    const rows = await sql.query<{ n: number }>('select count(*)::int as n from integrity_finding where resolved_at is null');
    return rows[0]?.n ?? 0;
  },

  /** The newest findings, open or resolved. */
  async latest(sql: Sql, limit: number): Promise<StoredFinding[]> {
    const rows = await sql.query<{ id: string; kind: IntegrityKind; stream_id: string; detail: string; found_at: Date; resolved_at: Date | null }>(
      'select id, kind, stream_id, detail, found_at, resolved_at from integrity_finding order by id desc limit $1',
      [limit],
    );
    return rows.map((r) => ({ id: Number(r.id), kind: r.kind, streamId: r.stream_id, detail: r.detail, foundAt: r.found_at, resolvedAt: r.resolved_at }));
  },
};
