import type { EntityManager } from '@mikro-orm/postgresql';
import { num, query } from '../sql.js';

export type StoredOutcome = 'APPLIED' | 'UNCHANGED' | 'REJECTED';

/** One decided row of an import, as stored. */
export interface StoredImportRow {
  readonly rowNumber: number;
  readonly rowHash: string;
  /** Null for a malformed row (it cannot collide with another row's level). */
  readonly sku: string | null;
  readonly warehouseCode: string | null;
  readonly outcome: StoredOutcome;
  /** Set exactly when the outcome is REJECTED. */
  readonly reason: string | null;
  readonly message: string | null;
}

export interface ImportKey {
  readonly owner: string;
  readonly importId: string;
}

/**
 * Creates the import unless it exists; returns the reason it was (first) created with.
 * Runs in its own short statement: concurrent starts of the same import do not fail.
 */
export async function openImport(em: EntityManager, key: ImportKey, reason: string, now: Date): Promise<string> {
  const rows = await query<{ reason: string }>(
    em,
    `with created as (
       insert into stock_import (owner, import_id, reason, created_at) values (?, ?, ?, ?)
       on conflict do nothing returning reason
     )
     select reason from created union all
     select reason from stock_import where owner = ? and import_id = ? and not exists (select 1 from created)`,
    [key.owner, key.importId, reason, now, key.owner, key.importId],
  );
  // The row was created and purged between the two halves: it is gone; create it again.
  return rows[0]?.reason ?? openImport(em, key, reason, now);
}

/**
 * Locks the import for the rest of the transaction: the batches of two runs of one import
 * take turns, so the second sees what the first decided. False if the import is gone
 * (purged while a run was open).
 */
export async function lockImport(em: EntityManager, key: ImportKey): Promise<boolean> {
  const rows = await query(em, `select 1 from stock_import where owner = ? and import_id = ? for update`, [key.owner, key.importId]);
  return rows.length > 0;
}

/** The rows of these numbers that an earlier batch (of any run) decided, by row number. */
export async function findDecidedRows(em: EntityManager, key: ImportKey, rowNumbers: readonly number[]): Promise<Map<number, StoredImportRow>> {
  if (rowNumbers.length === 0) return new Map();
  const rows = await query<{
    row_number: number;
    row_hash: string;
    sku: string | null;
    warehouse_code: string | null;
    outcome: StoredOutcome;
    reason: string | null;
    message: string | null;
  }>(
    em,
    `select row_number, row_hash, sku, warehouse_code, outcome, reason, message from stock_import_row
      where owner = ? and import_id = ? and row_number = any(?::int[])`,
    [key.owner, key.importId, rowNumbers],
  );
  return new Map(
    rows.map((r) => [
      r.row_number,
      { rowNumber: r.row_number, rowHash: r.row_hash, sku: r.sku, warehouseCode: r.warehouse_code, outcome: r.outcome, reason: r.reason, message: r.message },
    ]),
  );
}

/**
 * For each of these levels that an earlier row of the import counted: the first such row
 * number, keyed `sku#warehouse`. The import asks only about the few levels its filter may
 * have met (`CountedLevels`), not about every row of a batch: on a table whose statistics
 * predate the import (new, or autovacuum not yet round), PostgreSQL plans this as a hash
 * join over EVERY row the import has stored (25 ms per batch at 90,000 rows), so asking per
 * batch made a big import slow down quadratically. (A lateral per-level form was no cure:
 * planned as a walk of the primary key per level, 8 s.)
 */
export async function findCountedLevels(
  em: EntityManager,
  key: ImportKey,
  levels: ReadonlyArray<{ readonly sku: string; readonly warehouseCode: string }>,
): Promise<Map<string, number>> {
  if (levels.length === 0) return new Map();
  const rows = await query<{ sku: string; warehouse_code: string; first: number | string }>(
    em,
    `select r.sku, r.warehouse_code, min(r.row_number) as first from stock_import_row r
      where r.owner = ? and r.import_id = ? and r.sku is not null
        and (r.sku, r.warehouse_code) in (select * from unnest(?::text[], ?::text[]))
      group by r.sku, r.warehouse_code`,
    [key.owner, key.importId, levels.map((l) => l.sku), levels.map((l) => l.warehouseCode)],
  );
  return new Map(rows.map((r) => [`${r.sku}#${r.warehouse_code}`, num(r.first)]));
}

/** Records the decisions of one batch, in its transaction, in one statement. */
export async function insertDecidedRows(em: EntityManager, key: ImportKey, rows: readonly StoredImportRow[]): Promise<void> {
  if (rows.length === 0) return;
  await query(
    em,
    `insert into stock_import_row (owner, import_id, row_number, row_hash, sku, warehouse_code, outcome, reason, message)
     select ?, ?, r.n, r.h, r.s, r.w, r.o, r.r, r.m
       from unnest(?::int[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) as r(n, h, s, w, o, r, m)`,
    [
      key.owner,
      key.importId,
      rows.map((r) => r.rowNumber),
      rows.map((r) => r.rowHash),
      rows.map((r) => r.sku),
      rows.map((r) => r.warehouseCode),
      rows.map((r) => r.outcome),
      rows.map((r) => r.reason),
      rows.map((r) => r.message),
    ],
  );
}

/** Deletes up to `limit` imports created before `before` (their rows go with them); returns how many. */
export async function purgeStockImports(em: EntityManager, before: Date, limit: number): Promise<number> {
  const rows = await query(
    em,
    `with gone as (
       delete from stock_import where (owner, import_id) in (
         select owner, import_id from stock_import where created_at < ? order by created_at limit ? for update skip locked
       ) returning owner, import_id
     ), rows as (
       delete from stock_import_row r using gone g where r.owner = g.owner and r.import_id = g.import_id
     )
     select 1 from gone`,
    [before, limit],
  );
  return rows.length;
}
