import type pg from 'pg';

/**
 * The one connection verify and rebuild work through. One session (not a pool), because
 * both keep the discovered stream ids in a temporary table.
 */
export interface Sql {
  query<T>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

export const sqlOf = (client: pg.Client): Sql => ({
  query: async <T>(text: string, params: readonly unknown[] = []) => (await client.query(text, [...params])).rows as T[],
});
