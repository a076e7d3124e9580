import { expect } from 'chai';
import { scanAll } from './dynamo.js';
import { sql } from './replay.js';

/**
 * Checks the event table against the outbox: every committed event is in DynamoDB once,
 * every stream is gapless from 1, and nothing is in DynamoDB that PostgreSQL did not commit.
 */
export async function expectStoresAgree(databaseUrl: string, table: string, endpoint?: string): Promise<number> {
  const stored = await scanAll(table, endpoint);
  const committed = await sql<{ event_id: string; stream_id: string; version: string }>(
    databaseUrl,
    'select event_id, stream_id, version from event_outbox order by stream_id, version',
  );
  const ids = stored.map((e) => e.eventId);
  expect(new Set(ids).size, 'duplicate event ids in DynamoDB').to.equal(ids.length);
  expect([...ids].sort()).to.deep.equal(committed.map((r) => r.event_id).sort());
  const byStream = new Map<string, number[]>();
  for (const e of stored) byStream.set(e.streamId, [...(byStream.get(e.streamId) ?? []), e.version]);
  for (const [stream, versions] of byStream) {
    versions.sort((a, b) => a - b);
    expect(versions, `${stream} is not gapless`).to.deep.equal(versions.map((_, i) => i + 1));
  }
  return stored.length;
}
