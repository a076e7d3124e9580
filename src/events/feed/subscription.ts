import type { MikroORM } from '@mikro-orm/postgresql';
import { DomainError } from '../../inventory/errors.js';
import type { EventEnvelope, EventType } from '../types.js';
import { envelopeOfRow, OUTBOX_COLUMNS, type OutboxRow } from './rows.js';
import type { FeedSignal } from './signal.js';

export type FeedStart = { kind: 'after'; position: number } | { kind: 'now' } | { kind: 'oldest' };

export interface SubscribeOptions {
  readonly start: FeedStart;
  readonly streamIdPrefix: string;
  readonly eventTypes: readonly EventType[];
}

export interface FeedState {
  lastPosition: number;
  prunedThrough: number;
}

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Reads the global feed. A subscription is a single loop over `position > cursor`:
 * history and live events are the same query, so nothing can fall into a gap between
 * "catching up" and "following", and the cursor only moves forward, so nothing repeats.
 */
export class FeedReader {
  constructor(
    private readonly orm: MikroORM,
    private readonly signal: FeedSignal,
    private readonly options: { pageSize: number; pollMs: number },
  ) {}

  async state(): Promise<FeedState> {
    const rows = (await this.orm.em
      .fork()
      .execute('select last_position, pruned_through from event_feed where id = 1')) as Array<{
      last_position: string;
      pruned_through: string;
    }>;
    const r = rows[0];
    return { lastPosition: Number(r?.last_position ?? 0), prunedThrough: Number(r?.pruned_through ?? 0) };
  }

  private stale(after: number, prunedThrough: number): DomainError {
    return new DomainError(
      'STALE_POSITION',
      `after_position: events after position ${after} have been pruned from the feed; the oldest available position is ${prunedThrough + 1} (resubscribe with from_oldest, or resynchronise from StreamEvents)`,
      { field: 'after_position', oldestAvailablePosition: prunedThrough + 1 },
    );
  }

  /**
   * One page after `cursor`, read in one statement (one snapshot) together with the feed
   * state, so a prune between two reads cannot remove rows unnoticed.
   */
  private async page(cursor: number, o: SubscribeOptions): Promise<{ state: FeedState; events: EventEnvelope[] }> {
    const filters: string[] = [];
    const params: unknown[] = [cursor];
    if (o.streamIdPrefix !== '') {
      filters.push(`and o.stream_id like ?`);
      params.push(`${escapeLike(o.streamIdPrefix)}%`);
    }
    if (o.eventTypes.length > 0) {
      filters.push(`and o.type in (?)`);
      params.push([...o.eventTypes]);
    }
    params.push(this.options.pageSize);
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

  async *subscribe(o: SubscribeOptions, abort: AbortSignal): AsyncGenerator<EventEnvelope> {
    let cursor: number;
    const initial = await this.state();
    this.signal.advance(initial.lastPosition);
    switch (o.start.kind) {
      case 'now':
        cursor = initial.lastPosition;
        break;
      case 'oldest':
        cursor = initial.prunedThrough;
        break;
      case 'after':
        if (o.start.position > initial.lastPosition) {
          throw new DomainError(
            'STALE_POSITION',
            `after_position: ${o.start.position} is beyond the newest position ${initial.lastPosition} of this feed (was the database rebuilt?)`,
            { field: 'after_position', newestPosition: initial.lastPosition },
          );
        }
        cursor = o.start.position;
        break;
      default: {
        const never: never = o.start;
        throw new Error(`unknown start ${JSON.stringify(never)}`);
      }
    }
    while (!abort.aborted) {
      const { state, events } = await this.page(cursor, o);
      if (cursor < state.prunedThrough) throw this.stale(cursor, state.prunedThrough);
      for (const e of events) {
        yield e;
        cursor = e.position!;
      }
      if (events.length === this.options.pageSize) continue;
      // Filtered out or nothing new: everything up to last_position has been looked at.
      cursor = Math.max(cursor, state.lastPosition);
      this.signal.advance(state.lastPosition);
      await this.signal.waitBeyond(cursor, this.options.pollMs, abort);
    }
  }
}
