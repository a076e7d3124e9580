import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KEY, SNAPSHOT_PREFIX } from '../dynamo-schema.js';
import { parseStreamId } from '../streams.js';
import type { Sql } from './sql.js';

/**
 * Finds every stream in the event table and records its id in the temporary table
 * `replay_stream(stream_id, kind)` of this session: one paginated Scan of the keys, one
 * insert per page, so memory holds one page at a time however large the store. A stream
 * whose old events have expired is still found through its snapshots. Ids that follow no
 * known scheme are recorded with kind 'unknown'.
 */
export async function discoverStreams(
  dynamo: DynamoDBClient,
  table: string,
  sql: Sql,
  progress: (items: number, streams: number) => void,
): Promise<number> {
  await sql.query('create temporary table if not exists replay_stream (stream_id text primary key, kind text not null)');
  await sql.query('truncate replay_stream');
  let start: Record<string, AttributeValue> | undefined;
  let items = 0;
  do {
    const page = await dynamo.send(
      new ScanCommand({
        TableName: table,
        ProjectionExpression: '#s',
        ExpressionAttributeNames: { '#s': KEY.partition },
        ExclusiveStartKey: start,
        ConsistentRead: true,
      }),
    );
    const ids = new Set<string>();
    for (const item of page.Items ?? []) {
      const pk = item[KEY.partition]?.S;
      if (pk === undefined) continue;
      ids.add(pk.startsWith(SNAPSHOT_PREFIX) ? pk.slice(SNAPSHOT_PREFIX.length) : pk);
    }
    items += page.Items?.length ?? 0;
    if (ids.size > 0) {
      const list = [...ids];
      await sql.query(
        'insert into replay_stream (stream_id, kind) select * from unnest($1::text[], $2::text[]) on conflict do nothing',
        [list, list.map((id) => parseStreamId(id)?.kind ?? 'unknown')],
      );
    }
    start = page.LastEvaluatedKey;
    const rows = await sql.query<{ n: number }>('select count(*)::int as n from replay_stream');
    progress(items, rows[0]?.n ?? 0);
  } while (start !== undefined);
  const rows = await sql.query<{ n: number }>('select count(*)::int as n from replay_stream');
  return rows[0]?.n ?? 0;
}

/** The discovered stream ids of one kind, in id order, a page at a time. */
export async function* discoveredStreams(sql: Sql, kind: string, pageSize: number): AsyncGenerator<string[]> {
  let after = '';
  for (;;) {
    const rows = await sql.query<{ stream_id: string }>(
      'select stream_id from replay_stream where kind = $1 and stream_id > $2 order by stream_id limit $3',
      [kind, after, pageSize],
    );
    if (rows.length === 0) return;
    yield rows.map((r) => r.stream_id);
    after = rows[rows.length - 1]!.stream_id;
  }
}

export async function countDiscovered(sql: Sql, kind: string): Promise<number> {
  const rows = await sql.query<{ n: number }>('select count(*)::int as n from replay_stream where kind = $1', [kind]);
  return rows[0]?.n ?? 0;
}
