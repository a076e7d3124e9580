import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * One ImportStockCounts import of one caller (docs/stock-and-allocations.md "Bulk counts").
 * Its row lock makes the batches of two runs of the same import take turns. Written and
 * read with SQL (src/persistence/repositories/stock-import.repository.ts); the entity
 * describes the table for the schema check.
 */
@Entity({ tableName: 'stock_import' })
export class StockImport {
  @PrimaryKey({ type: 'string', length: 300 })
  owner!: string;

  @PrimaryKey({ type: 'string', length: 128 })
  importId!: string;

  /** Every run of the import must give the same. */
  @Property({ type: 'string', length: 200 })
  reason!: string;

  @Index({ name: 'stock_import_created_at_idx' })
  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt!: Date;
}

/** What became of one row of an import: a rerun repeats it instead of applying again. */
@Entity({ tableName: 'stock_import_row' })
// A second count of one level within an import is found here.
@Index({
  name: 'stock_import_row_level_idx',
  expression: `create index "stock_import_row_level_idx" on "stock_import_row" ("owner", "import_id", "sku", "warehouse_code") where "sku" is not null`,
})
export class StockImportRow {
  @PrimaryKey({ type: 'string', length: 300 })
  owner!: string;

  @PrimaryKey({ type: 'string', length: 128 })
  importId!: string;

  @PrimaryKey({ type: 'integer' })
  rowNumber!: number;

  /** sha256 of the row as sent: a rerun that sends another row under this number is told. */
  @Property({ type: 'string', length: 64 })
  rowHash!: string;

  /** Null for a malformed row. */
  @Property({ type: 'string', length: 64, nullable: true })
  sku!: string | null;

  @Property({ type: 'string', length: 32, nullable: true })
  warehouseCode!: string | null;

  /** APPLIED, UNCHANGED or REJECTED. */
  @Property({ type: 'string', length: 16 })
  outcome!: string;

  /** The rejection reason (StockCountRejectionReason without its prefix); null unless REJECTED. */
  @Property({ type: 'string', length: 32, nullable: true })
  reason!: string | null;

  @Property({ type: 'string', length: 1000, nullable: true })
  message!: string | null;
}
