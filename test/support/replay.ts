import { expect } from 'chai';
import { rebuildFromEventStore, type RebuildResult } from '../../src/events/replay/rebuild.js';
import { withSession } from '../../src/admin/event-store.js';
import { verifyEventStore, type VerifyResult } from '../../src/events/replay/verify.js';
import type { App } from '../../src/app.js';
import { testDynamoClient } from './dynamo.js';
import { waitFor } from './events.js';
import { emptyDatabase } from './stack.js';
import { migrate, openOrm } from '../../src/persistence/orm.js';

/** Runs verify against a database and table; returns the result and the printed lines. */
export async function verify(databaseUrl: string, table: string, endpoint?: string): Promise<VerifyResult & { lines: string[] }> {
  const lines: string[] = [];
  const dynamo = testDynamoClient(endpoint);
  try {
    const r = await withSession(databaseUrl, (sql) => verifyEventStore({ dynamo, table, sql, print: (l) => lines.push(l) }));
    return { ...r, lines };
  } finally {
    dynamo.destroy();
  }
}

export async function rebuild(databaseUrl: string, table: string): Promise<RebuildResult & { lines: string[] }> {
  const lines: string[] = [];
  const dynamo = testDynamoClient();
  try {
    const r = await withSession(databaseUrl, (sql) => rebuildFromEventStore({ dynamo, table, sql, print: (l) => lines.push(l) }));
    return { ...r, lines };
  } finally {
    dynamo.destroy();
  }
}

/** Rebuilds the event table into a new, migrated, empty database and expects no problem; returns its url and the result. */
export async function rebuildIntoEmpty(table: string): Promise<{ url: string; r: RebuildResult & { lines: string[] } }> {
  const url = await emptyDatabase();
  const orm = await openOrm({ url, poolMin: 0, poolMax: 2 });
  try {
    await migrate(orm);
  } finally {
    await orm.close();
  }
  const r = await rebuild(url, table);
  expect(r.problems, r.lines.join('\n')).to.equal(0);
  return { url, r };
}

export async function sql<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  return withSession(url, (s) => s.query<T>(text, params));
}

/** Waits until every committed event is in DynamoDB (and has a feed position). */
export async function drained(app: App, ms = 30_000): Promise<void> {
  await waitFor(
    async () => {
      await app.relay.sweep();
      const b = await app.relay.backlog();
      const rows = (await app.orm.em.fork().execute('select count(*)::int as c from event_outbox where position is null')) as Array<{ c: number }>;
      return b.count === 0 && rows[0]?.c === 0;
    },
    ms,
    'the outbox to drain',
  );
}

export function expectClean(r: VerifyResult & { lines: string[] }): void {
  expect(r.differences, r.lines.join('\n')).to.equal(0);
}
