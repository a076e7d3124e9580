import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../log.js';
import { PeriodicJob } from '../../periodic.js';
import type { StockReplay } from '../projections/stock.js';
import { STORE_ORDER, stores } from '../replay/stores/index.js';
import type { StreamKind } from '../streams.js';
import { auditStore, type Checkpoint } from './audit-store.js';
import type { Versioned } from '../projections/projection.js';
import { byKind, checkLedger, checkOutboxRows, checkStreams, markOf, newestVersions, oldestVersions, type AuditContext, type ContinueFrom, type LedgerMark, type OutboxRow, type StoredEvents } from './checks.js';
import { diffLine, INTEGRITY_KINDS, type Finding, type IntegrityKind } from './findings.js';
import type { AdvisoryLease } from './lease.js';

export interface AuditorOptions {
  readonly intervalMs: number;
  /** Streams audited per second, changed ones first, the sweep from what is left. */
  readonly streamsPerSecond: number;
  /** DynamoDB reads (Query pages) per second. */
  readonly dynamoReadsPerSecond: number;
  /** Streams per second of the slow full sweep (taken from the streams budget). */
  readonly sweepStreamsPerSecond: number;
  /** Wait before the second look at a difference. */
  readonly confirmDelayMs: number;
}

export interface AuditorStats {
  leader: boolean;
  /** The last feed position whose streams were audited. */
  position: number;
  lagSeconds: number;
  lagEvents: number;
  /** Confirmed findings recorded by this instance, by kind. */
  violations: Record<IntegrityKind, number>;
  /** Open findings in the fleet (read by every instance). */
  openFindings: number;
  sweepsCompleted: number;
  streamsAudited: number;
  /** Of those, streams continued from the state audited before (the rest were replayed from a snapshot). */
  streamsContinued: number;
  /** DynamoDB requests (Query pages, BatchGetItem) the auditor made. */
  dynamoReads: number;
  passes: number;
}

/**
 * A rate: `perSecond` units refill every second, at most `burst` saved up. It may run into
 * debt (DynamoDB pages are counted after the pass that read them).
 */
class Allowance {
  private tokens: number;
  private at: number;
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }
  available(now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    return Math.floor(this.tokens);
  }
  spend(n: number): void {
    this.tokens -= n;
  }
}

const BATCH = 100;
const SWEEP_EVENTS_PER_STREAM = 50;
/**
 * A stream the auditor has not seen with at most this many events is read by key from its
 * first event (a share of a BatchGetItem) instead of a snapshot read and a Query: fewer
 * requests, though on DynamoDB one read unit per event instead of one per 4 KB queried.
 */
const READ_BY_KEY_UP_TO = 25;

/**
 * The online integrity auditor. One instance of the fleet at a time (an advisory lock)
 * follows the global feed from a checkpoint in PostgreSQL: for the outbox rows of each new
 * range, once the relay has appended them, it checks that each is in DynamoDB as recorded,
 * replays every changed stream up to the version PostgreSQL holds and compares the two
 * field by field (verify's comparison), and checks that the ledger of each changed stock
 * level adds up. A slow sweep walks every stream too, to catch corruption at rest. A
 * difference is looked at twice before it is recorded; a later clean audit of the stream
 * resolves it.
 */
export class IntegrityAuditor {
  readonly stats: AuditorStats = {
    leader: false,
    position: 0,
    lagSeconds: 0,
    lagEvents: 0,
    violations: Object.fromEntries(Object.keys(INTEGRITY_KINDS).map((k) => [k, 0])) as Record<IntegrityKind, number>,
    openFindings: 0,
    sweepsCompleted: 0,
    streamsAudited: 0,
    streamsContinued: 0,
    dynamoReads: 0,
    passes: 0,
  };
  private readonly job: PeriodicJob<void>;
  private readonly streams: Allowance;
  private readonly sweep: Allowance;
  private readonly reads: Allowance;
  /** Streams whose events were not all appended when their range was audited. */
  private readonly retry = new Set<string>();
  private readonly marks = new LRUCache<string, LedgerMark>({ max: 100_000 });
  /**
   * The replayed state of each recently audited stream that agreed with PostgreSQL: the
   * next audit of a changed stream continues from it with the new events read by key
   * (BatchGetItem), instead of a snapshot read and a Query. Corruption at rest of what was
   * already audited is the sweep's to find: it replays every stream in full.
   */
  private readonly audited = new LRUCache<string, Versioned>({ max: 20_000 });
  private readonly listeners: Array<(stats: AuditorStats, recorded: readonly Finding[]) => void> = [];

  constructor(
    private readonly ctx: AuditContext,
    private readonly lease: AdvisoryLease,
    private readonly log: Logger,
    private readonly options: AuditorOptions,
    private readonly clock: () => Date = () => new Date(),
  ) {
    const now = clock().getTime();
    // A pass may spend what one interval earns (at least one unit, so a slow rate still moves).
    const allowance = (perSecond: number) => new Allowance(perSecond, perSecond === 0 ? 0 : Math.max(1, (perSecond * options.intervalMs) / 1000), now);
    this.streams = allowance(options.streamsPerSecond);
    this.sweep = allowance(options.sweepStreamsPerSecond);
    this.reads = allowance(options.dynamoReadsPerSecond);
    this.job = new PeriodicJob(() => this.pass(), options.intervalMs);
  }

  /** Told after every pass (health, metrics), with the findings it recorded. */
  onPass(listener: (stats: AuditorStats, recorded: readonly Finding[]) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.job.start();
  }

  async stop(): Promise<void> {
    await this.job.stop();
    await this.lease.release();
  }

  /** One pass now (tests; the schedule runs them otherwise). */
  run(): Promise<void> {
    return this.job.run();
  }

  private async pass(): Promise<void> {
    let recorded: Finding[] = [];
    try {
      this.stats.leader = await this.lease.acquire();
      if (this.stats.leader) recorded = await this.audit();
      // Every instance, leader or not, reports the fleet's open findings (health, metrics).
      this.stats.openFindings = await auditStore.openCount(this.ctx.sql);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'integrity audit pass failed; retrying');
    }
    this.stats.passes++;
    for (const l of this.listeners) l(this.stats, recorded);
  }

  private async audit(): Promise<Finding[]> {
    const now = this.clock();
    const readsBefore = this.ctx.reader.stats.pages;
    const budget = Math.min(this.streams.available(now.getTime()), Math.max(0, this.reads.available(now.getTime())));
    const cp = await auditStore.checkpoint(this.ctx.sql);
    const { rows, streamIds } = await this.nextRange(cp.position, budget);
    for (const id of this.retry) streamIds.add(id);
    this.retry.clear();

    const candidates: Finding[] = [];
    const passed: string[] = [];
    const oldest = oldestVersions(rows);
    // Streams it has not audited yet are read from version 1 by key when they start in the
    // range or are short; the others are replayed from their newest snapshot.
    const continueFrom: ContinueFrom = (id, liveVersion) =>
      this.audited.get(id) ?? (oldest.get(id) === 1 || liveVersion <= READ_BY_KEY_UP_TO ? null : undefined);
    const checked = await this.checkAll(streamIds, newestVersions(rows), false, continueFrom);
    candidates.push(...checked.findings);
    passed.push(...checked.passed);
    candidates.push(...(await checkOutboxRows(this.ctx, rows, checked.fetched)));

    let sweep = { kind: cp.sweepKind, after: cp.sweepAfter, completed: cp.sweepsCompleted };
    if (!this.stopping) {
      const sweepBudget = Math.min(this.sweep.available(now.getTime()), Math.max(0, budget - streamIds.size));
      if (sweepBudget > 0) {
        const swept = await this.sweepNext(cp, sweepBudget);
        this.sweep.spend(swept.streams);
        this.streams.spend(swept.streams);
        sweep = swept.cursor;
        candidates.push(...swept.findings);
        passed.push(...swept.passed);
      }
    }
    const confirmed = candidates.length === 0 ? [] : await this.confirm(candidates, rows);
    const clean = passed.filter((id) => !confirmed.some((f) => f.streamId === id));
    const recorded = await auditStore.record(this.ctx.sql, confirmed, now);
    for (const f of recorded) {
      this.stats.violations[f.kind]++;
      this.log.error({ kind: f.kind, streamId: f.streamId }, diffLine(f));
    }
    const resolved = await auditStore.resolve(this.ctx.sql, clean, now);
    if (resolved > 0) this.log.info({ resolved }, 'integrity findings resolved by a clean audit');

    const position = rows.length === 0 ? cp.position : rows[rows.length - 1]!.position;
    await auditStore.save(this.ctx.sql, { position, sweepKind: sweep.kind, sweepAfter: sweep.after, sweepsCompleted: sweep.completed });
    const lag = await auditStore.lag(this.ctx.sql, position, now);
    this.streams.spend(streamIds.size);
    const reads = this.ctx.reader.stats.pages - readsBefore;
    this.reads.spend(reads);
    this.stats.dynamoReads += reads;
    Object.assign(this.stats, {
      position,
      lagSeconds: lag.seconds,
      lagEvents: lag.events,
      sweepsCompleted: sweep.completed,
      streamsAudited: this.stats.streamsAudited + streamIds.size,
    });
    return recorded;
  }

  private get stopping(): boolean {
    return this.job.stopped;
  }

  /**
   * The outbox rows after the checkpoint touching at most `maxStreams` streams, up to the
   * first row the relay has not appended yet (its stream could not be compared).
   */
  private async nextRange(position: number, maxStreams: number): Promise<{ rows: OutboxRow[]; streamIds: Set<string> }> {
    const streamIds = new Set<string>();
    const rows: OutboxRow[] = [];
    if (maxStreams <= 0) return { rows, streamIds };
    for (const row of await auditStore.rowsAfter(this.ctx.sql, position, maxStreams * 4)) {
      if (!row.appended) break;
      if (!streamIds.has(row.streamId) && streamIds.size >= maxStreams) break;
      streamIds.add(row.streamId);
      rows.push(row);
    }
    return { rows, streamIds };
  }

  /** Stream comparison plus, for stock levels, the ledger; `full` sums each ledger from its first row. */
  private async checkAll(
    ids: Iterable<string>,
    rangeMax: Map<string, number>,
    full: boolean,
    continueFrom?: ContinueFrom,
  ): Promise<{ findings: Finding[]; passed: string[]; fetched: StoredEvents }> {
    const findings: Finding[] = [];
    const passed: string[] = [];
    const fetched: StoredEvents = new Map();
    for (const [kind, all] of byKind(ids)) {
      for (let i = 0; i < all.length; i += BATCH) {
        const batch = all.slice(i, i + BATCH);
        const r = await checkStreams(this.ctx, kind, batch, rangeMax, continueFrom);
        for (const id of r.pending) this.retry.add(id);
        for (const [id, events] of r.fetched) fetched.set(id, events);
        this.stats.streamsContinued += r.continued;
        for (const f of r.findings) this.audited.delete(f.streamId);
        findings.push(...r.findings);
        let ok = r.passed;
        if (kind === 'stock') {
          const levels = ok.map((id) => r.live.get(id) as StockReplay | undefined).filter((l): l is StockReplay => l !== undefined);
          const ledger = await checkLedger(this.ctx, levels, (id) => (full ? undefined : this.marks.get(id)));
          findings.push(...ledger);
          const bad = new Set(ledger.map((f) => f.streamId));
          for (const l of levels) {
            const id = `stock#${l.sku}#${l.warehouseCode}`;
            if (!bad.has(id)) this.marks.set(id, markOf(l));
          }
          ok = ok.filter((id) => !bad.has(id));
          for (const id of bad) this.audited.delete(id);
        }
        for (const id of ok) {
          const state = r.replayed.get(id);
          if (state !== undefined) this.audited.set(id, state);
        }
        passed.push(...ok);
      }
    }
    return { findings, passed, fetched };
  }

  /** The next streams of the slow sweep over every live row, kind by kind, then from the start again. */
  private async sweepNext(
    cp: Checkpoint,
    budget: number,
  ): Promise<{ cursor: { kind: string; after: string; completed: number }; streams: number; findings: Finding[]; passed: string[] }> {
    let kindIndex = Math.max(0, STORE_ORDER.indexOf(cp.sweepKind as StreamKind));
    let after = STORE_ORDER.includes(cp.sweepKind as StreamKind) ? cp.sweepAfter : '';
    let completed = cp.sweepsCompleted;
    const ids: string[] = [];
    while (ids.length < budget) {
      const kind = STORE_ORDER[kindIndex]!;
      const store = stores[kind];
      const next = store === undefined ? [] : await store.streamIdsAfter(this.ctx.sql, after, budget - ids.length, false);
      ids.push(...next);
      if (next.length > 0) after = next[next.length - 1]!;
      if (ids.length < budget) {
        // this kind is done: on to the next, and after the last, a sweep is complete
        kindIndex++;
        after = '';
        if (kindIndex === STORE_ORDER.length) {
          kindIndex = 0;
          completed++;
          break;
        }
      }
    }
    // Every stream in full, never from a state remembered: short ones by key from version 1.
    const r = await this.checkAll(ids, new Map(), true, (_id, liveVersion) => (liveVersion <= READ_BY_KEY_UP_TO ? null : undefined));
    // The events still in the outbox are checked against the event store too (the newest
    // few per stream: a quiet stream entirely, a hot one by its recent history).
    const events = await checkOutboxRows(this.ctx, await auditStore.newestRows(this.ctx.sql, ids, SWEEP_EVENTS_PER_STREAM), r.fetched);
    const bad = new Set(events.map((f) => f.streamId));
    return {
      cursor: { kind: STORE_ORDER[kindIndex]!, after, completed },
      streams: ids.length,
      findings: [...r.findings, ...events],
      passed: r.passed.filter((id) => !bad.has(id)),
    };
  }

  /**
   * The second look: a difference is recorded only when the same check finds it again a
   * moment later (as `verify` confirms its differences).
   */
  private async confirm(candidates: readonly Finding[], rows: readonly OutboxRow[]): Promise<Finding[]> {
    await sleep(this.options.confirmDelayMs);
    const streams = new Set(candidates.map((f) => f.streamId));
    const theirs = rows.filter((r) => streams.has(r.streamId));
    const rangeMax = newestVersions(theirs);
    const positions = theirs.map((r) => r.position);
    const again: Finding[] = [];
    if (positions.length > 0) {
      const low = Math.min(...positions);
      const fresh = await auditStore.rowsAfter(this.ctx.sql, low - 1, Math.max(...positions) - low + 1);
      again.push(...(await checkOutboxRows(this.ctx, fresh.filter((r) => streams.has(r.streamId)))));
    }
    again.push(...(await checkOutboxRows(this.ctx, await auditStore.newestRows(this.ctx.sql, [...streams], SWEEP_EVENTS_PER_STREAM))));
    const retryBefore = new Set(this.retry);
    again.push(...(await this.checkAll(streams, rangeMax, true)).findings);
    // A stream that became pending meanwhile is not confirmed now; it is audited again later.
    const pendingNow = new Set([...this.retry].filter((id) => !retryBefore.has(id)));
    const key = (f: Finding) => `${f.kind}\u0000${f.streamId}`;
    const candidateKeys = new Set(candidates.map(key));
    const out = new Map<string, Finding>();
    for (const f of again) {
      if (candidateKeys.has(key(f)) && !pendingNow.has(f.streamId)) out.set(`${key(f)}\u0000${f.detail}`, f);
    }
    return [...out.values()];
  }

}
