import type { MikroORM } from '@mikro-orm/postgresql';
import type { EventEnvelope } from '../types.js';
import type { FeedFilter } from './filter.js';
import { envelopeOfRow, OUTBOX_COLUMNS, type OutboxRow } from './rows.js';

export interface FeedState {
  lastPosition: number;
  prunedThrough: number;
}

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The feed's queries: its state, and pages of positioned outbox rows. */
export class FeedPages {
  /** Pages read, by purpose (the benchmark and the tests count them). */
  readonly stats = { tail: 0, catchUp: 0 };

  constructor(private readonly orm: MikroORM) {}

  private inFlight: Promise<FeedState> | undefined;
  private next: Promise<FeedState> | undefined;

  /**
   * The feed state, read by a query that started after this call: callers that arrive
   * while one is in flight share the next one. 5,000 subscriptions opening at once cost a
   * few queries instead of 5,000 waiting for the pool's 20 connections (which timed out
   * as UNAVAILABLE on a loaded machine).
   */
  state(): Promise<FeedState> {
    if (this.inFlight === undefined) return this.start();
    this.next ??= this.inFlight.then(
      () => this.start(),
      () => this.start(),
    );
    return this.next;
  }

  private start(): Promise<FeedState> {
    this.next = undefined;
    const p = this.readState().finally(() => {
      if (this.inFlight === p) this.inFlight = undefined;
    });
    this.inFlight = p;
    return p;
  }

  private async readState(): Promise<FeedState> {
    const rows = (await this.orm.em
      .fork()
      .execute('select last_position, pruned_through from event_feed where id = 1')) as Array<{
      last_position: string;
      pruned_through: string;
    }>;
    const r = rows[0];
    return { lastPosition: Number(r?.last_position ?? 0), prunedThrough: Number(r?.pruned_through ?? 0) };
  }

  /**
   * At most `limit` events after `cursor` (matching `filter`, when given), read in one
   * statement (one snapshot) together with the feed state, so a prune between two reads
   * cannot remove rows unnoticed.
   */
  async page(
    cursor: number,
    limit: number,
    purpose: keyof FeedPages['stats'],
    filter?: FeedFilter,
  ): Promise<{ state: FeedState; events: EventEnvelope[] }> {
    const filters: string[] = [];
    const params: unknown[] = [cursor];
    if (filter !== undefined && filter.streamIdPrefix !== '') {
      filters.push(`and o.stream_id like ?`);
      params.push(`${escapeLike(filter.streamIdPrefix)}%`);
    }
    if (filter !== undefined && filter.eventTypes.length > 0) {
      filters.push(`and o.type in (?)`);
      params.push([...filter.eventTypes]);
    }
    params.push(limit);
    this.stats[purpose]++;
    const rows = (await this.orm.em.fork().execute(
      `select f.last_position, f.pruned_through, e.*
         from event_feed f
         left join lateral (
           select ${OUTBOX_COLUMNS} from event_outbox o
            where o.position > ? and o.position <= f.last_position ${filters.join(' ')}
            order by o.position limit ?
         ) e on true
        where f.id = 1`,
      params,
    )) as Array<OutboxRow & { last_position: string; pruned_through: string }>;
    const first = rows[0];
    const state = { lastPosition: Number(first?.last_position ?? 0), prunedThrough: Number(first?.pruned_through ?? 0) };
    const events = rows.filter((r) => r.event_id !== null).map(envelopeOfRow);
    return { state, events };
  }
}
