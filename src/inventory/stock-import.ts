import type { EntityManager } from '@mikro-orm/postgresql';
import { StockLevel } from '../persistence/entities/stock-level.entity.js';
import {
  findCountedLevels,
  findDecidedRows,
  insertDecidedRows,
  lockImport,
  openImport,
  type ImportKey,
  type StoredImportRow,
} from '../persistence/repositories/stock-import.repository.js';
import type { CallContext, Tx } from '../persistence/unit-of-work.js';
import type { UnitOfWork } from '../persistence/unit-of-work.js';
import { DomainError, invalid } from './errors.js';
import { emptyLevel, levelKey } from './stock-level.js';
import { StockChanges } from './stock-changes.js';
import {
  checkRow,
  decideCount,
  isChecked,
  MAX_IMPORT_ROWS,
  rejected,
  rowHash,
  type CheckedRow,
  type CountRow,
  type DecidedRow,
  type RejectionReason,
  type RowOutcome,
} from './stock-count-rows.js';
import { CountedLevels } from './stock-import-levels.js';
import { ImportSummary, type ImportResult } from './stock-import-summary.js';
import * as sv from './stock-validation.js';
import * as v from './validation.js';

/** One message of the stream, as the edge decodes it. */
export interface ImportMessage {
  readonly importId: string;
  readonly reason: string;
  readonly counts: ReadonlyArray<Omit<CountRow, 'row'>>;
}

export interface StockImportOptions {
  /** Rows applied per transaction. */
  readonly batchRows: number;
  /**
   * Resolves when the event relay has room again: a bulk writer must not run ahead of the
   * appends (their queue, and the append lag, would grow with the import).
   */
  readonly pace?: () => Promise<void>;
}

export const DEFAULT_REASON = 'cycle count';

/**
 * ImportStockCounts: a stream of counted rows applied with set-to-count semantics, batch
 * by batch, each batch one transaction that locks its levels (one ordered statement),
 * writes a ledger row and a StockAdjusted event per changed level, and records what
 * became of every row under the import id, so a rerun repeats decisions instead of
 * applying again. The stream is read only between batches: the caller's messages wait in
 * the transport (back-pressure) while a batch is applied, and memory holds one batch plus
 * a fixed-size filter of the levels counted so far (`CountedLevels`).
 */
export class StockImportService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly options: StockImportOptions,
  ) {}

  async import(em: EntityManager, ctx: CallContext, messages: AsyncIterable<ImportMessage>): Promise<ImportResult> {
    let key: ImportKey | undefined;
    let reason = DEFAULT_REASON;
    let summary: ImportSummary | undefined;
    let counted: CountedLevels | undefined;
    let batch: CountRow[] = [];
    let rows = 0;
    const flush = async () => {
      if (batch.length === 0 || key === undefined || summary === undefined || counted === undefined) return;
      const { decided, met } = await this.applyBatch(em, ctx, key, reason, batch, counted);
      for (const d of decided) summary.add(d);
      for (const l of met) counted.add(l.sku, l.warehouseCode);
      batch = [];
      await this.options.pace?.();
    };
    for await (const m of messages) {
      if (key === undefined) {
        const importId = sv.allocationId('import_id', m.importId);
        reason = v.text('reason', m.reason === '' ? DEFAULT_REASON : m.reason, 1, 200, 'multiline');
        key = { owner: ctx.actor, importId };
        const first = await openImport(em.fork(), key, reason, new Date());
        if (first !== reason) {
          throw invalid('reason', `import ${JSON.stringify(importId)} was started with the reason ${JSON.stringify(first)}; a rerun must give the same`);
        }
        summary = new ImportSummary(importId);
        counted = new CountedLevels();
      } else {
        if (m.importId !== '' && m.importId !== key.importId) throw invalid('import_id', 'set it in the first message only (or repeat the same)');
        if (m.reason !== '' && m.reason !== reason) throw invalid('reason', 'set it in the first message only (or repeat the same)');
      }
      for (const c of m.counts) {
        batch.push({ ...c, row: ++rows });
        if (batch.length >= this.options.batchRows) await flush();
      }
    }
    if (key === undefined || summary === undefined) throw invalid('import_id', 'is required in the first message');
    await flush();
    return summary.result();
  }

  /**
   * One batch in one transaction; a batch that meets the import's lock waits for the other
   * run's batch. Returns what became of its rows, and the levels they named as recorded
   * (for `counted`, once the batch has committed).
   */
  private applyBatch(
    em: EntityManager,
    ctx: CallContext,
    key: ImportKey,
    reason: string,
    rows: readonly CountRow[],
    counted: CountedLevels,
  ): Promise<{ decided: DecidedRow[]; met: NamedLevel[] }> {
    // A fresh fork per batch: the identity map of a long import never grows.
    return this.uow.run(em.fork(), ctx, async (tx) => {
      if (!(await lockImport(tx.em, key))) {
        throw new DomainError('FAILED_PRECONDITION', `import ${JSON.stringify(key.importId)} was purged while it ran; start it again`, { field: 'import_id' });
      }
      const stored = await findDecidedRows(
        tx.em,
        key,
        rows.map((r) => r.row),
      );
      const out = new Map<number, DecidedRow>();
      const toStore: StoredImportRow[] = [];
      const hashes = new Map<number, string>();
      const fresh: CheckedRow[] = [];
      const decide = (r: CountRow, outcome: RowOutcome, storedAs?: { sku: string; warehouseCode: string } | null) => {
        out.set(r.row, { row: r.row, sku: r.sku, warehouseCode: r.warehouseCode, outcome, earlier: false });
        if (storedAs === undefined) return; // not recorded: decided the same way on every run
        toStore.push({
          rowNumber: r.row,
          rowHash: hashes.get(r.row)!,
          sku: storedAs?.sku ?? null,
          warehouseCode: storedAs?.warehouseCode ?? null,
          outcome: outcome.kind,
          reason: outcome.kind === 'REJECTED' ? outcome.reason : null,
          message: outcome.kind === 'REJECTED' ? outcome.message.slice(0, 1000) : null,
        });
      };
      for (const r of rows) {
        const hash = rowHash(r);
        hashes.set(r.row, hash);
        const before = stored.get(r.row);
        if (before !== undefined) {
          if (before.rowHash === hash) out.set(r.row, { row: r.row, sku: r.sku, warehouseCode: r.warehouseCode, outcome: fromStored(before), earlier: true });
          else decide(r, rejected('CHANGED_ON_RERUN', `row ${r.row} differs from the row ${r.row} an earlier run of this import sent; nothing was applied (use a new import_id for a new count)`));
          continue;
        }
        if (r.row > MAX_IMPORT_ROWS) {
          decide(r, rejected('IMPORT_TOO_LARGE', `an import holds at most ${MAX_IMPORT_ROWS} rows; send the rest as another import`));
          continue;
        }
        const checked = checkRow(r);
        if (isChecked(checked)) fresh.push(checked);
        else decide(r, checked, null);
      }
      const original = new Map(rows.map((r) => [r.row, r]));
      const reject = (c: CheckedRow, outcome: RowOutcome) => decide(original.get(c.row)!, outcome, c);
      const unique = await this.withoutDuplicates(tx, key, fresh, counted, stored, reject);
      const { changes, valid } = await this.lock(tx, unique, reject);
      for (const c of valid) {
        const d = decideCount(changes.find(c.sku, c.warehouseCode) ?? emptyLevel(c.sku, c.warehouseCode), c);
        if (d.kind !== 'delta') {
          decide(original.get(c.row)!, d, c);
          continue;
        }
        try {
          const reference = `import ${key.importId} row ${c.row}`;
          changes.apply(c.sku, c.warehouseCode, { type: 'ADJUSTMENT', onHandDelta: d.delta, allocatedDelta: 0, reason, reference }, tx.now, (ch) => ({
            type: 'StockAdjusted',
            data: { ...ch, reason, reference },
          }));
          decide(original.get(c.row)!, { kind: 'APPLIED' }, c);
        } catch (err) {
          if (!(err instanceof DomainError && err.code === 'FAILED_PRECONDITION')) throw err;
          decide(original.get(c.row)!, rejected('BELOW_COMMITTED', err.message), c);
        }
      }
      await changes.commit(tx);
      await insertDecidedRows(tx.em, key, toStore);
      const met: NamedLevel[] = [...fresh, ...[...stored.values()].filter(isCounted)];
      return { decided: rows.map((r) => out.get(r.row)!), met };
    });
  }

  /** Rejects a second count of one level (within the batch, or after an earlier batch's row); returns the rest. */
  private async withoutDuplicates(
    tx: Tx,
    key: ImportKey,
    rows: readonly CheckedRow[],
    counted: CountedLevels,
    stored: ReadonlyMap<number, StoredImportRow>,
    reject: (row: CheckedRow, outcome: RowOutcome) => void,
  ): Promise<CheckedRow[]> {
    // Earlier batches: PostgreSQL is asked only about the levels the filter may have met.
    const maybe = rows.filter((r) => counted.mayHave(r.sku, r.warehouseCode));
    const earlier = maybe.length === 0 ? new Map<string, number>() : await findCountedLevels(tx.em, key, maybe);
    // This batch: its rows an earlier run recorded, then its fresh rows in order.
    const first = new Map<string, number>();
    for (const s of stored.values()) {
      if (!isCounted(s)) continue;
      const k = levelKey(s.sku, s.warehouseCode);
      first.set(k, Math.min(first.get(k) ?? Infinity, s.rowNumber));
    }
    const unique: CheckedRow[] = [];
    for (const r of rows) {
      const k = levelKey(r.sku, r.warehouseCode);
      const seen = Math.min(earlier.get(k) ?? Infinity, first.get(k) ?? Infinity);
      if (seen < r.row) {
        reject(r, rejected('DUPLICATE', `sku ${JSON.stringify(r.sku)} in warehouse ${JSON.stringify(r.warehouseCode)} was already counted in row ${seen}`));
        continue;
      }
      first.set(k, Math.min(first.get(k) ?? Infinity, r.row));
      unique.push(r);
    }
    return unique;
  }

  /**
   * Locks the batch's levels in one ordered statement. A level not found names an unknown
   * sku or warehouse (the row is rejected), or was never stocked: it is created first if
   * the row would change it, and the levels are locked again. A level that never existed
   * and is counted 0 stays absent: it reads as zero anyway, and a count of empty shelves
   * should not create a row per empty bin. Returns the locked levels and the rows left.
   */
  private async lock(
    tx: Tx,
    rows: readonly CheckedRow[],
    reject: (row: CheckedRow, outcome: RowOutcome) => void,
  ): Promise<{ changes: StockChanges; valid: readonly CheckedRow[] }> {
    const repo = tx.em.getRepository(StockLevel);
    const keysOf = (rs: readonly CheckedRow[]) => rs.map((r) => ({ sku: r.sku, warehouseCode: r.warehouseCode }));
    if (rows.length === 0) return { changes: new StockChanges([]), valid: rows };
    let locked = await repo.lock(keysOf(rows));
    const absent = rows.filter((r) => !locked.has(levelKey(r.sku, r.warehouseCode)));
    // Every level found: its sku and warehouse exist (foreign keys); nothing more to ask.
    if (absent.length === 0) return { changes: new StockChanges(locked.values()), valid: rows };
    const found = await repo.existing([...new Set(absent.map((r) => r.sku))], [...new Set(absent.map((r) => r.warehouseCode))]);
    const unknown = new Set<number>();
    for (const r of absent) {
      const reason: RejectionReason | undefined = !found.skus.has(r.sku) ? 'UNKNOWN_SKU' : !found.codes.has(r.warehouseCode) ? 'UNKNOWN_WAREHOUSE' : undefined;
      if (reason === undefined) continue;
      unknown.add(r.row);
      reject(r, rejected(reason, reason === 'UNKNOWN_SKU' ? `sku: item ${JSON.stringify(r.sku)} not found` : `warehouse_code: warehouse ${JSON.stringify(r.warehouseCode)} not found`));
    }
    const valid = rows.filter((r) => !unknown.has(r.row));
    const missing = absent.filter((r) => r.counted > 0 && !unknown.has(r.row));
    if (missing.length > 0) {
      await repo.ensure(keysOf(missing), tx.now);
      locked = await repo.lock(keysOf(valid));
    }
    return { changes: new StockChanges(locked.values()), valid };
  }
}

/** A level named by a row. */
type NamedLevel = { readonly sku: string; readonly warehouseCode: string };

/** A recorded row that named a level (a malformed one did not). */
const isCounted = (r: StoredImportRow): r is StoredImportRow & NamedLevel => r.sku !== null && r.warehouseCode !== null;

function fromStored(r: StoredImportRow): RowOutcome {
  switch (r.outcome) {
    case 'APPLIED':
      return { kind: 'APPLIED' };
    case 'UNCHANGED':
      return { kind: 'UNCHANGED' };
    case 'REJECTED':
      return rejected((r.reason ?? 'INVALID_ROW') as RejectionReason, r.message ?? '');
    default: {
      const never: never = r.outcome;
      throw new Error(`unknown stored outcome ${String(never)}`);
    }
  }
}
