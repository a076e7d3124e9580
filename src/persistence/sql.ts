import { createHash } from 'node:crypto';
import type { Configuration, EntityManager, Knex } from '@mikro-orm/postgresql';
import type pg from 'pg';

export interface QueryOptions {
  /** `read` asks for a replica (`ON_REPLICA`, src/persistence/reporting.ts); a transaction stays where it is. */
  readonly connectionType?: 'read' | 'write';
  /**
   * Run as a named (server-side) prepared statement when the database settings allow them
   * (`preparedStatements`, src/persistence/orm.ts): PostgreSQL parses and plans it once per
   * connection instead of on every execution. Only for a text the code holds fixed (the
   * name is derived from it), and for the statements every write runs.
   */
  readonly prepared?: boolean;
}

/** The options of a hot statement: a named prepared statement where allowed. */
export const PREPARED: QueryOptions = { prepared: true };

/** The ORMs (by configuration) whose connections may hold named prepared statements. */
const preparing = new WeakSet<Configuration>();

/** Lets `prepared` statements be named on this ORM's connections (off unless called; openOrm calls it). */
export function allowPreparedStatements(config: Configuration, allow: boolean): void {
  if (allow) preparing.add(config);
  else preparing.delete(config);
}

/**
 * Hand-written SQL for the hot paths (locking reads, bulk writes with unnest/RETURNING),
 * run on the EntityManager's transaction when it has one. Parameters are `?` and go to the
 * server as parameters ($1, ...), so arrays bind as PostgreSQL arrays.
 *
 * Inside a transaction the statement goes straight to the transaction's `pg` connection:
 * knex's per-statement work (a Raw builder, binding rewrites, query events, three promise
 * layers) cost more CPU than the statement's own client work, on every statement of
 * every write, and buys nothing for a finished SQL text. Outside a transaction it goes
 * through knex, which takes a connection from the pool and gives it back.
 */
export async function query<T>(em: EntityManager, text: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<T[]> {
  const trx = em.getTransactionContext<Knex.Transaction>();
  const name = options.prepared === true && preparing.has(em.config) ? statementName(text) : undefined;
  if (trx === undefined) {
    const raw = em.getConnection(options.connectionType ?? 'write').getKnex().raw(text, params as readonly Knex.RawBinding[]);
    const result = (await (name === undefined ? raw : raw.options({ name }))) as { rows: T[] };
    return result.rows;
  }
  if (trx.isCompleted()) throw new Error(`the transaction is over; statement not sent: ${text.slice(0, 80)}`);
  const undefinedAt = params.indexOf(undefined);
  if (undefinedAt >= 0) throw new Error(`undefined binding at index ${undefinedAt} of: ${text.slice(0, 80)}`);
  // knex's transaction client hands out the one connection the transaction holds.
  const connection = await (trx.client as unknown as { acquireConnection(): Promise<pg.ClientBase> }).acquireConnection();
  const result = await connection.query<T & pg.QueryResultRow>({ text: positional(text), values: params as unknown[], ...(name === undefined ? {} : { name }) });
  return result.rows;
}

const positionalTexts = new Map<string, string>();

/** `?` -> `$1`, `$2`, ... and `\?` -> a literal `?`, exactly as knex's PostgreSQL client does; cached (the texts are the code's own). */
function positional(text: string): string {
  let out = positionalTexts.get(text);
  if (out === undefined) {
    let n = 0;
    out = text.replace(/(\\*)(\?)/g, (_match, escapes: string) => (escapes.length % 2 === 1 ? '?' : `$${++n}`));
    if (positionalTexts.size < 10_000) positionalTexts.set(text, out);
  }
  return out;
}

const statementNames = new Map<string, string>();

/** One name per text: a connection that prepared a name never sees it with another text. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `inv_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** bigint and numeric columns arrive as strings. */
export const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

/** timestamptz columns arrive as strings (MikroORM keeps pg's text form). */
export const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

export const dateOrNull = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));
