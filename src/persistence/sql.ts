import type { EntityManager, Knex } from '@mikro-orm/postgresql';

/**
 * Hand-written SQL for the hot paths (locking reads, bulk writes with unnest/RETURNING),
 * run on the EntityManager's transaction when it has one. It goes through knex with
 * server-side parameters ($1, ...), so arrays bind as PostgreSQL arrays.
 */
export async function query<T>(
  em: EntityManager,
  text: string,
  params: readonly unknown[] = [],
  on: { readonly connectionType: 'read' | 'write' } = { connectionType: 'write' },
): Promise<T[]> {
  const trx = em.getTransactionContext<Knex.Transaction>();
  // `ON_REPLICA` (src/persistence/reporting.ts) asks for a replica; a transaction stays where it is.
  const knex = trx ?? em.getConnection(on.connectionType).getKnex();
  const result = (await knex.raw(text, params as readonly Knex.RawBinding[])) as { rows: T[] };
  return result.rows;
}

/** bigint and numeric columns arrive as strings. */
export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

/** timestamptz columns arrive as strings (MikroORM keeps pg's text form). */
export const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

export const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));
