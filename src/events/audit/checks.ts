import type { DynamoReader } from '../dynamo-reader.js';
import type { Versioned } from '../projections/projection.js';
import type { StockReplay } from '../projections/stock.js';
import { problemsOf } from '../replay/compare.js';
import { mapLimit } from '../replay/progress.js';
import { outcomeOf, replayBatch, type ReplayOutcome } from '../replay/replay-batch.js';
import { continueReplay } from '../replay/replay-stream.js';
import type { Sql } from '../replay/sql.js';
import { stores } from '../replay/stores/index.js';
import type { SnapshotStore } from '../snapshots.js';
import { parseStreamId, type StreamKind } from '../streams.js';
import type { EventEnvelope } from '../types.js';
import type { Finding } from './findings.js';

/** What the checks read through: the same replay machinery and stores as `verify`. */
export interface AuditContext {
  readonly sql: Sql;
  readonly reader: DynamoReader;
  readonly snapshots: SnapshotStore;
  /** Streams replayed (or read) at once. */
  readonly concurrency: number;
}

/** An outbox row of the audited feed range. */
export interface OutboxRow {
  readonly position: number;
  readonly streamId: string;
  readonly version: number;
  readonly eventId: string;
  readonly type: string;
  readonly payload: unknown;
  readonly appended: boolean;
  readonly occurredAt: Date;
}

/** JSON with object keys sorted: jsonb does not keep the key order the writer used. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Events read from the event store, by stream id then version. */
export type StoredEvents = Map<string, Map<number, EventEnvelope>>;

/**
 * Every appended outbox row must be in the event store at its (stream, version) with the
 * same event id, type and content. Rows whose events `prefetched` holds (the stream check
 * read them) are compared with those; for the others one Query per stream covers its rows.
 */
export async function checkOutboxRows(ctx: AuditContext, rows: readonly OutboxRow[], prefetched: StoredEvents = new Map()): Promise<Finding[]> {
  const byStream = new Map<string, OutboxRow[]>();
  const out: Finding[] = [];
  for (const row of rows) {
    if (!row.appended) continue;
    const known = prefetched.get(row.streamId);
    if (known !== undefined && known.has(row.version)) {
      const f = compareRow(row, known.get(row.version));
      if (f !== undefined) out.push(f);
    } else {
      byStream.set(row.streamId, [...(byStream.get(row.streamId) ?? []), row]);
    }
  }
  const found = await mapLimit([...byStream], ctx.concurrency, async ([streamId, streamRows]) => {
    const versions = streamRows.map((r) => r.version);
    const stored = new Map<number, EventEnvelope>();
    for await (const e of ctx.reader.read({ streamId, lowVersion: Math.min(...versions), highVersion: Math.max(...versions), direction: 'forward' })) {
      stored.set(e.version, e);
    }
    return streamRows.map((row) => compareRow(row, stored.get(row.version))).filter((f): f is Finding => f !== undefined);
  });
  return [...out, ...found.flat()];
}

/** An outbox row against the event stored at its key (undefined: none is). */
function compareRow(row: OutboxRow, e: EventEnvelope | undefined): Finding | undefined {
  const streamId = row.streamId;
  if (e === undefined) {
    return { kind: 'event_missing', streamId, detail: `version ${row.version} (event ${row.eventId}, position ${row.position}) is appended in the outbox but not in the event store` };
  }
  if (e.eventId !== row.eventId || e.type !== row.type || canonicalJson(e.data) !== canonicalJson(row.payload)) {
    const what = e.eventId !== row.eventId ? `event id ${e.eventId}, outbox ${row.eventId}` : e.type !== row.type ? `type ${e.type}, outbox ${row.type}` : 'other content than the outbox';
    return { kind: 'event_mismatch', streamId, detail: `version ${row.version}: event store has ${what}` };
  }
  return undefined;
}

export interface StreamCheck {
  readonly findings: Finding[];
  /** Streams that were compared and agree. */
  readonly passed: string[];
  /** Streams with events the relay has not appended yet: look again later. */
  readonly pending: string[];
  /** The live PostgreSQL states that were compared, by stream id. */
  readonly live: Map<string, Versioned>;
  /** The replayed states of the streams that passed, by stream id (what a later check may continue from). */
  readonly replayed: Map<string, Versioned>;
  /** The events the check read by key (streams it continued from a known state). */
  readonly fetched: StoredEvents;
  /** How many streams were continued from a known state rather than replayed. */
  readonly continued: number;
}

/**
 * Where a stream's check may start instead of replaying it from its newest snapshot: a
 * state of it that an earlier check replayed and found equal to PostgreSQL, or `null` when
 * the audited range holds the stream from version 1. Undefined: replay it in full.
 */
export type ContinueFrom = (streamId: string, liveVersion: number) => Versioned | null | undefined;

/** A stream further ahead than this of its known state is replayed in full (one Query, not many keys). */
const MAX_CONTINUE = 200;

/**
 * Replays each stream from the event store up to the version PostgreSQL holds and compares
 * the two field by field, as `verify` does. PostgreSQL is read first: the events up to that
 * version are committed and, once appended, immutable, so a concurrent write cannot make
 * the comparison differ. Streams whose events are not all appended yet are left for later.
 * `rangeMax` (the newest version of each stream in the audited outbox range) must not be
 * beyond what PostgreSQL holds: those rows committed before the state was read.
 */
export async function checkStreams(
  ctx: AuditContext,
  kind: StreamKind,
  ids: readonly string[],
  rangeMax = new Map<string, number>(),
  continueFrom: ContinueFrom = () => undefined,
): Promise<StreamCheck> {
  const store = stores[kind];
  const live = store === undefined ? new Map<string, Versioned>() : await store.load(ctx.sql, ids);
  const pendingRows = await ctx.sql.query<{ stream_id: string }>(
    'select distinct stream_id from event_outbox where stream_id = any($1) and appended_at is null',
    [ids],
  );
  const pending = new Set(pendingRows.map((r) => r.stream_id));
  const toCheck = ids.filter((id) => !pending.has(id));
  const continued = new Map<string, Continued>();
  for (const id of toCheck) {
    const upTo = live.get(id)?.version;
    if (upTo === undefined) continue;
    const from = continueFrom(id, upTo);
    if (from === undefined) continue;
    const start = from?.version ?? 0;
    if (start <= upTo && upTo - start <= MAX_CONTINUE) continued.set(id, { from, start, upTo });
  }
  const fetched = await ctx.reader.getMany(
    [...continued].flatMap(([streamId, c]) => Array.from({ length: c.upTo - c.start }, (_, i) => ({ streamId, version: c.start + 1 + i }))),
  );
  // A version missing from the by-key read (an event expired under a snapshot, or one that is
  // gone) is for the full replay to judge, so both paths report a stream alike.
  const byKey = [...continued].filter(([id, c]) => hasAll(fetched.get(id), c.start + 1, c.upTo));
  const keyed = new Set(byKey.map(([id]) => id));
  const outcomes = [
    ...(await Promise.all(byKey.map(([id, c]) => continueStream(id, kind, c, fetched.get(id)!)))),
    ...(await replayBatch(ctx.reader, ctx.snapshots, toCheck.filter((id) => !keyed.has(id)), ctx.concurrency, (id) => live.get(id)?.version)),
  ];
  const findings: Finding[] = [];
  const passed: string[] = [];
  const replayed = new Map<string, Versioned>();
  for (const r of outcomes) {
    const streamId = r.ok ? r.stream.streamId : r.streamId;
    const lines = new Map<string, string[]>();
    problemsOf(r, store === undefined ? undefined : live, store?.uncompared ?? [], lines);
    const kindOf = r.ok ? 'state_mismatch' : r.gap ? 'event_missing' : 'stream_broken';
    for (const detail of lines.get(streamId) ?? []) findings.push({ kind: kindOf, streamId, detail });
    const state = live.get(streamId);
    const newest = rangeMax.get(streamId);
    if (store !== undefined && newest !== undefined && state !== undefined && newest > state.version) {
      findings.push({ kind: 'orphan_event', streamId, detail: `the outbox holds version ${newest}, PostgreSQL is at version ${state.version}` });
    }
    if (!findings.some((f) => f.streamId === streamId)) {
      passed.push(streamId);
      if (r.ok && r.stream.state !== undefined) replayed.set(streamId, r.stream.state);
    }
  }
  return { findings, passed, pending: [...pending], live, replayed, fetched, continued: keyed.size };
}

const hasAll = (stored: Map<number, EventEnvelope> | undefined, low: number, high: number): boolean => {
  for (let v = low; v <= high; v++) if (stored?.has(v) !== true) return false;
  return true;
};

/** A stream to continue from a known state (`null`: from nothing) at version `start` up to `upTo`. */
interface Continued {
  readonly from: Versioned | null;
  readonly start: number;
  readonly upTo: number;
}

/** A stream continued from a known state with its later events, read by key (replay's checks apply). */
function continueStream(streamId: string, kind: StreamKind, c: Continued, stored: Map<number, EventEnvelope>): Promise<ReplayOutcome> {
  const ref = parseStreamId(streamId);
  if (ref?.kind !== kind) return Promise.resolve({ ok: false, streamId, problem: `not a ${kind} stream id`, gap: false });
  const events = Array.from({ length: c.upTo - c.start }, (_, i) => stored.get(c.start + 1 + i)!);
  return outcomeOf(streamId, async () => {
    const r = await continueReplay(streamId, ref, c.from ?? undefined, c.start, c.from !== null, events);
    return { streamId, ref, state: r.state, fromSnapshot: c.start, events: r.events };
  });
}

/** The running totals of a level at a version, as the ledger last proved them. */
export interface LedgerMark {
  readonly version: number;
  readonly onHand: number;
  readonly allocated: number;
  readonly damaged: number;
  readonly qualityControl: number;
  readonly safetyStock: number;
}

const LEDGER_TOTALS = ['onHand', 'allocated', 'damaged', 'qualityControl', 'safetyStock'] as const;

/** The totals a mark proved, for the next incremental check. */
export const markOf = (l: StockReplay): LedgerMark => ({
  version: l.version,
  onHand: l.onHand,
  allocated: l.allocated,
  damaged: l.damaged,
  qualityControl: l.qualityControl,
  safetyStock: l.safetyStock,
});

/**
 * The ledger rows of each level must add up to its on_hand, allocated and unavailable
 * states. Incremental:
 * from `marks` (what a previous check proved at an older version), only the rows of the
 * versions since are summed; a level without a mark is summed from its first row.
 */
export async function checkLedger(ctx: AuditContext, levels: readonly StockReplay[], marks: (streamId: string) => LedgerMark | undefined): Promise<Finding[]> {
  if (levels.length === 0) return [];
  const zero: LedgerMark = { version: 0, onHand: 0, allocated: 0, damaged: 0, qualityControl: 0, safetyStock: 0 };
  const from = levels.map((l) => marks(`stock#${l.sku}#${l.warehouseCode}`) ?? zero);
  const sums = await ctx.sql.query<{ i: string; on_hand: string; allocated: string; damaged: string; quality_control: string; safety_stock: string }>(
    `select k.i, coalesce(sum(m.on_hand_delta), 0) as on_hand, coalesce(sum(m.allocated_delta), 0) as allocated,
            coalesce(sum(m.damaged_delta), 0) as damaged, coalesce(sum(m.quality_control_delta), 0) as quality_control,
            coalesce(sum(m.safety_stock_delta), 0) as safety_stock
       from unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) with ordinality as k(sku, code, after_version, version, i)
       left join stock_movement m
         on m.sku = k.sku and m.warehouse_code = k.code and m.stock_version > k.after_version and m.stock_version <= k.version
      group by k.i`,
    [levels.map((l) => l.sku), levels.map((l) => l.warehouseCode), from.map((f) => f.version), levels.map((l) => l.version)],
  );
  const findings: Finding[] = [];
  for (const row of sums) {
    const i = Number(row.i) - 1;
    const level = levels[i]!;
    const mark = from[i]!;
    const summed: Record<(typeof LEDGER_TOTALS)[number], number> = {
      onHand: mark.onHand + Number(row.on_hand),
      allocated: mark.allocated + Number(row.allocated),
      damaged: mark.damaged + Number(row.damaged),
      qualityControl: mark.qualityControl + Number(row.quality_control),
      safetyStock: mark.safetyStock + Number(row.safety_stock),
    };
    const off = LEDGER_TOTALS.filter((t) => summed[t] !== level[t]);
    if (off.length > 0) {
      findings.push({
        kind: 'ledger_mismatch',
        streamId: `stock#${level.sku}#${level.warehouseCode}`,
        detail: `ledger up to version ${level.version} adds up to ${off.map((t) => `${t} ${summed[t]}`).join(', ')}; the level holds ${off.map((t) => `${t} ${level[t]}`).join(', ')}`,
      });
    }
  }
  return findings;
}

/** The newest version of each stream among these outbox rows (checkStreams' `rangeMax`). */
export function newestVersions(rows: readonly OutboxRow[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) out.set(r.streamId, Math.max(r.version, out.get(r.streamId) ?? 0));
  return out;
}

/** The oldest version of each stream among these outbox rows. */
export function oldestVersions(rows: readonly OutboxRow[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) out.set(r.streamId, Math.min(r.version, out.get(r.streamId) ?? Number.MAX_SAFE_INTEGER));
  return out;
}

/** Stream ids grouped by kind (ids of no known kind are left out: `verify` reports those). */
export function byKind(ids: Iterable<string>): Map<StreamKind, string[]> {
  const out = new Map<StreamKind, string[]>();
  for (const id of ids) {
    const ref = parseStreamId(id);
    if (ref !== undefined) out.set(ref.kind, [...(out.get(ref.kind) ?? []), id]);
  }
  return out;
}
