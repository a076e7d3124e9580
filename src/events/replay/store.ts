import type { Versioned } from '../projections/projection.js';
import type { StreamKind } from '../streams.js';
import type { EventEnvelope } from '../types.js';
import type { Sql } from './sql.js';

/**
 * The PostgreSQL half of a projection: reads the live rows of some streams as states (for
 * verify), lists live rows that no stream explains, and writes replayed states (for
 * rebuild). One per stream kind; the pure half is in src/events/projections/.
 */
export interface ProjectionStore<S extends Versioned> {
  readonly kind: StreamKind;
  /** The tables it reads and writes; rebuild refuses to write into tables that hold rows. */
  readonly tables: readonly string[];
  /** The live state of each of these streams that has a row, by stream id. */
  load(sql: Sql, streamIds: readonly string[]): Promise<Map<string, S>>;
  /**
   * Up to `limit` stream ids of live rows, after `afterStreamId` in stream id order. With
   * `onlyUnreplayed`, only those missing from the temporary table `replay_stream(stream_id)`
   * (verify: entities the event store knows nothing about); without, every live row (the
   * integrity auditor's sweep).
   */
  streamIdsAfter(sql: Sql, afterStreamId: string, limit: number, onlyUnreplayed: boolean): Promise<string[]>;
  /** Writes replayed states into the (empty) tables. */
  insert(sql: Sql, states: readonly S[]): Promise<void>;
  /** State fields PostgreSQL does not hold faithfully, left out of the comparison (say why where set). */
  readonly uncompared?: readonly (keyof S & string)[];
  /**
   * Rows derived from each event rather than from the state (the stock ledger): rebuild
   * calls it with the stored events of each rebuilt stream, in version order, a page at a
   * time, after `insert` and in the same transaction.
   */
  insertEvents?(sql: Sql, events: readonly EventEnvelope[]): Promise<void>;
  /** Runs once after every stream of the kind was rebuilt (sequence resets). */
  finishRebuild?(sql: Sql): Promise<void>;
}

/** Field-by-field differences between a replayed and a live state, as readable lines. */
export function diffStates(replayed: Versioned, live: Versioned, uncompared: readonly string[] = []): string[] {
  const a = replayed as unknown as Record<string, unknown>;
  const b = live as unknown as Record<string, unknown>;
  const out: string[] = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (uncompared.includes(key)) continue;
    const x = JSON.stringify(a[key]);
    const y = JSON.stringify(b[key]);
    if (x !== y) out.push(`${key}: event store ${x ?? 'absent'}, PostgreSQL ${y ?? 'absent'}`);
  }
  return out;
}

export const iso = (d: Date | string): string => (d instanceof Date ? d : new Date(d)).toISOString();
