import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoReader } from '../dynamo-reader.js';
import { SnapshotStore } from '../snapshots.js';
import { countDiscovered, discoveredStreams, discoverStreams } from './discover.js';
import { Progress } from './progress.js';
import { problemsOf } from './compare.js';
import { replayBatch } from './replay-batch.js';
import type { Sql } from './sql.js';
import { STORE_ORDER, stores } from './stores/index.js';

export interface ReplayRunOptions {
  readonly dynamo: DynamoDBClient;
  readonly table: string;
  readonly sql: Sql;
  /** Where report lines go (the CLI prints them). */
  readonly print: (line: string) => void;
  /** Streams replayed at once. */
  readonly concurrency?: number;
  /** Streams per batch (one PostgreSQL read or write per batch). */
  readonly batchSize?: number;
}

export interface VerifyResult {
  readonly streams: number;
  readonly events: number;
  readonly differences: number;
  /** The first differences (all of them are printed). */
  readonly sample: readonly string[];
}

const SAMPLE = 1000;

/**
 * Replays every stream of the event store (newest snapshot + later events) into fresh
 * state and compares it with the live PostgreSQL rows; every difference is printed, and
 * a live row that no stream explains is one too. On a live system a stream that changes
 * while it is compared could look different, so a difference is confirmed by replaying
 * and reading that stream a second time before it is reported.
 */
export async function verifyEventStore(o: ReplayRunOptions): Promise<VerifyResult> {
  const reader = new DynamoReader(o.dynamo, o.table, 1000);
  const snapshots = new SnapshotStore(o.dynamo, o.table);
  const concurrency = o.concurrency ?? 8;
  const batchSize = o.batchSize ?? 200;
  const progress = new Progress(o.print);
  const sample: string[] = [];
  let differences = 0;
  let streams = 0;
  const report = (line: string) => {
    differences++;
    if (sample.length < SAMPLE) sample.push(line);
    o.print(`DIFF ${line}`);
  };

  const backlog = await o.sql.query<{ n: number }>('select count(*)::int as n from event_outbox where appended_at is null');
  if ((backlog[0]?.n ?? 0) > 0) {
    o.print(`note: ${backlog[0]!.n} committed events are not in DynamoDB yet (relay backlog); their streams may differ until it drains`);
  }
  o.print(`verify: scanning the event table ${o.table}`);
  const total = await discoverStreams(o.dynamo, o.table, o.sql, (items, found) =>
    progress.tick(() => `verify: scanned ${items} items, ${found} streams`),
  );
  o.print(`verify: ${total} streams to replay`);
  for await (const ids of discoveredStreams(o.sql, 'unknown', batchSize)) {
    for (const id of ids) report(`${id}: not a stream id of any known kind`);
  }

  for (const kind of STORE_ORDER) {
    const store = stores[kind];
    const count = await countDiscovered(o.sql, kind);
    if (count > 0 && store === undefined) {
      report(`${kind}: ${count} streams cannot be compared with PostgreSQL: no ${kind} projection store is wired`);
    }
    let done = 0;
    for await (const ids of discoveredStreams(o.sql, kind, batchSize)) {
      const compare = async (batch: readonly string[]): Promise<Map<string, string[]>> => {
        const outcomes = await replayBatch(reader, snapshots, batch, concurrency);
        const found = new Map<string, string[]>();
        const live = store === undefined ? undefined : await store.load(o.sql, batch);
        for (const r of outcomes) problemsOf(r, live, store?.uncompared ?? [], found);
        return found;
      };
      const first = await compare(ids);
      // Confirm: a stream written to while it was compared gets a second look.
      const confirmed = first.size === 0 ? first : await compare([...first.keys()]);
      for (const [id, lines] of confirmed) for (const line of lines) report(`${id}: ${line}`);
      streams += ids.length;
      done += ids.length;
      progress.tick(() => `verify: ${kind} ${done}/${count} streams, ${differences} differences`);
    }
    if (store !== undefined) {
      let after = '';
      for (;;) {
        const missing = await store.streamIdsAfter(o.sql, after, batchSize, true);
        if (missing.length === 0) break;
        for (const id of missing) report(`${id}: in PostgreSQL but the event store has no event of it`);
        after = missing[missing.length - 1]!;
      }
    }
    if (count > 0) progress.tick(() => `verify: ${kind} ${done}/${count} streams, ${differences} differences`, true);
  }
  const events = reader.stats.items;
  o.print(
    differences === 0
      ? `verify: OK: ${streams} streams, ${events} events read, the event store and PostgreSQL agree`
      : `verify: FAILED: ${differences} differences in ${streams} streams (${events} events read)`,
  );
  return { streams, events, differences, sample };
}
