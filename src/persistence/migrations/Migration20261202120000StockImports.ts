import { Migration } from '@mikro-orm/migrations';

/**
 * ImportStockCounts (docs/stock-and-allocations.md "Bulk counts"):
 * - `stock_import`: one row per import of one caller; its row lock serializes the batches
 *   of concurrent runs of the same import, and it keeps the reason every run must repeat.
 * - `stock_import_row`: what became of every row of the import (applied, unchanged,
 *   rejected with its reason), written in the transaction that applied the row. A rerun
 *   repeats these decisions instead of applying again; `row_hash` tells whether the rerun
 *   sent the same row. `sku`/`warehouse_code` are kept for well-formed rows only, to find
 *   a second count of the same level within the import.
 * Imports older than IDEMPOTENCY_RETENTION_HOURS go with the idempotency keys (the purger
 * deletes an import and its rows in one statement).
 */
export class Migration20261202120000StockImports extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "stock_import" (
      "owner" varchar(300) not null,
      "import_id" varchar(128) not null,
      "reason" varchar(200) not null,
      "created_at" timestamptz not null,
      constraint "stock_import_pkey" primary key ("owner", "import_id"));`);
    this.addSql(`create index "stock_import_created_at_idx" on "stock_import" ("created_at");`);
    this.addSql(`create table "stock_import_row" (
      "owner" varchar(300) not null,
      "import_id" varchar(128) not null,
      "row_number" int not null,
      "row_hash" varchar(64) not null,
      "sku" varchar(64) null,
      "warehouse_code" varchar(32) null,
      "outcome" varchar(16) not null,
      "reason" varchar(32) null,
      "message" varchar(1000) null,
      constraint "stock_import_row_pkey" primary key ("owner", "import_id", "row_number"));`);
    this.addSql(
      `create index "stock_import_row_level_idx" on "stock_import_row" ("owner", "import_id", "sku", "warehouse_code") where "sku" is not null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "stock_import_row";`);
    this.addSql(`drop table if exists "stock_import";`);
  }
}
