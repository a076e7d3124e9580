import { DynamoReader } from '../dynamo-reader.js';
import { SnapshotStore } from '../snapshots.js';
import { projections } from '../projections/index.js';
import type { Versioned } from '../projections/projection.js';
import type { EventEnvelope } from '../types.js';
import type { Sql } from './sql.js';
import { countDiscovered, discoveredStreams, discoverStreams } from './discover.js';
import { Progress } from './progress.js';
import { replayBatch } from './replay-batch.js';
import { STORE_ORDER, stores } from './stores/index.js';
import type { ReplayRunOptions } from './verify.js';

export interface RebuildResult {
  readonly streams: number;
  readonly events: number;
  /** Streams that could not be rebuilt (printed as they are found). */
  readonly problems: number;
  /** The feed's first position after the rebuild. */
  readonly feedStartsAfter: number;
}

export class NotEmptyError extends Error {}

/**
 * The disaster-recovery path: reconstructs the PostgreSQL state from the event store into
 * a migrated, empty database. Kinds are rebuilt in reference order (warehouses and items
 * before the stock and allocations that refer to them), a batch of streams per insert,
 * so memory holds one batch whatever the size of the store.
 *
 * The global feed of the lost database cannot be recovered (positions live in PostgreSQL),
 * so the new feed starts beyond any position the old one can have handed out (the clock
 * in microseconds) and everything before it counts as pruned: a subscriber resuming from
 * an old position gets OUT_OF_RANGE instead of silently missing events.
 */
export async function rebuildFromEventStore(o: ReplayRunOptions, now: () => Date = () => new Date()): Promise<RebuildResult> {
  const reader = new DynamoReader(o.dynamo, o.table, 1000);
  const snapshots = new SnapshotStore(o.dynamo, o.table);
  const concurrency = o.concurrency ?? 8;
  const batchSize = o.batchSize ?? 200;
  const progress = new Progress(o.print);

  for (const table of ['event_outbox', ...STORE_ORDER.flatMap((k) => stores[k]?.tables ?? [])]) {
    const rows = await o.sql.query<{ any: boolean }>(`select exists (select 1 from ${table}) as any`);
    if (rows[0]?.any) throw new NotEmptyError(`rebuild needs an empty database: table ${table} has rows`);
  }

  let problems = 0;
  const problem = (line: string) => {
    problems++;
    o.print(`PROBLEM ${line}`);
  };
  o.print(`rebuild: scanning the event table ${o.table}`);
  const total = await discoverStreams(o.dynamo, o.table, o.sql, (items, found) =>
    progress.tick(() => `rebuild: scanned ${items} items, ${found} streams`),
  );
  o.print(`rebuild: ${total} streams to replay`);
  for await (const ids of discoveredStreams(o.sql, 'unknown', batchSize)) for (const id of ids) problem(`${id}: not a stream id of any known kind; skipped`);

  let streams = 0;
  // A second reader, so that the event count reported stays the count replay read.
  const history = new DynamoReader(o.dynamo, o.table, 1000);
  let partialHistories = 0;
  for (const kind of STORE_ORDER) {
    const store = stores[kind];
    const count = await countDiscovered(o.sql, kind);
    if (count === 0) continue;
    if (store === undefined) {
      problem(`${kind}: ${count} streams not rebuilt: no ${kind} projection store is wired`);
      continue;
    }
    let done = 0;
    for await (const ids of discoveredStreams(o.sql, kind, batchSize)) {
      const states: Versioned[] = [];
      for (const r of await replayBatch(reader, snapshots, ids, concurrency)) {
        if (!r.ok) problem(`${r.problem}; skipped`);
        else if (r.stream.state !== undefined) states.push(r.stream.state);
      }
      await o.sql.query('begin');
      try {
        await store.insert(o.sql, states);
        if (store.insertEvents !== undefined) {
          for (const state of states) {
            const first = await copyHistory(history, o.sql, store.insertEvents.bind(store), projections[kind].streamIdOf(state), state.version);
            if (first > 1) partialHistories++;
          }
        }
        await o.sql.query('commit');
      } catch (err) {
        await o.sql.query('rollback');
        throw err;
      }
      done += ids.length;
      streams += states.length;
      progress.tick(() => `rebuild: ${kind} ${done}/${count} streams`);
    }
    progress.tick(() => `rebuild: ${kind} ${done}/${count} streams`, true);
    await store.finishRebuild?.(o.sql);
  }
  if (partialHistories > 0) {
    o.print(
      `note: ${partialHistories} streams keep only part of their history (events older than a snapshot expired); their ledger rows before it are not restored`,
    );
  }

  const start = now().getTime() * 1000;
  const feed = await o.sql.query<{ last_position: string }>(
    `update event_feed set last_position = greatest(last_position, $1), pruned_through = greatest(pruned_through, $1)
      where id = 1 returning last_position`,
    [start],
  );
  const feedStartsAfter = Number(feed[0]?.last_position ?? start);
  o.print(
    problems === 0
      ? `rebuild: OK: ${streams} streams rebuilt from ${reader.stats.items} events; the feed continues after position ${feedStartsAfter}`
      : `rebuild: FINISHED WITH ${problems} PROBLEMS: ${streams} streams rebuilt from ${reader.stats.items} events`,
  );
  return { streams, events: reader.stats.items, problems, feedStartsAfter };
}

/**
 * Hands the stored events 1..`upTo` of one stream to `write`, a page at a time (memory
 * holds one page however long the stream); returns the first version still stored
 * (above 1 when older events expired behind a snapshot).
 */
async function copyHistory(
  reader: DynamoReader,
  sql: Sql,
  write: (sql: Sql, events: readonly EventEnvelope[]) => Promise<void>,
  streamId: string,
  upTo: number,
): Promise<number> {
  let page: EventEnvelope[] = [];
  let first = 0;
  for await (const e of reader.read({ streamId, lowVersion: 1, highVersion: upTo, direction: 'forward' })) {
    if (first === 0) first = e.version;
    page.push(e);
    if (page.length >= 1000) {
      await write(sql, page);
      page = [];
    }
  }
  if (page.length > 0) await write(sql, page);
  return first === 0 ? upTo + 1 : first;
}
