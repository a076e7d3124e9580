import { Migration } from '@mikro-orm/migrations';

/**
 * Partial fulfilment and release: settled units per allocation line (held = quantity -
 * fulfilled - released - expired, never negative), the PARTIALLY_FULFILLED status, and an
 * expiry queue that covers every allocation still holding units.
 */
export class Migration20261202110000AllocationChanges extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "allocation_line" add column "fulfilled_quantity" bigint not null default 0, add column "released_quantity" bigint not null default 0, add column "expired_quantity" bigint not null default 0;`);
    // Lines of allocations closed before this migration settled their whole quantity.
    this.addSql(`update "allocation_line" l set "fulfilled_quantity" = case when a."status" = 'FULFILLED' then l."quantity" else 0 end, "released_quantity" = case when a."status" = 'RELEASED' then l."quantity" else 0 end, "expired_quantity" = case when a."status" = 'EXPIRED' then l."quantity" else 0 end from "allocation" a where a."allocation_id" = l."allocation_id" and a."status" <> 'ALLOCATED';`);
    this.addSql(`alter table "allocation_line" add constraint allocation_line_settled_check check (fulfilled_quantity >= 0 and released_quantity >= 0 and expired_quantity >= 0 and fulfilled_quantity + released_quantity + expired_quantity <= quantity);`);
    this.addSql(`alter table "allocation" drop constraint if exists "allocation_status_check";`);
    this.addSql(`alter table "allocation" add constraint "allocation_status_check" check ("status" in ('ALLOCATED', 'RELEASED', 'FULFILLED', 'EXPIRED', 'PARTIALLY_FULFILLED'));`);
    this.addSql(`drop index if exists "allocation_expiry_idx";`);
    this.addSql(`create index "allocation_expiry_idx" on "allocation" ("expire_time") where "status" in ('ALLOCATED', 'PARTIALLY_FULFILLED') and "expire_time" is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "allocation_expiry_idx";`);
    this.addSql(`create index "allocation_expiry_idx" on "allocation" ("expire_time") where "status" = 'ALLOCATED' and "expire_time" is not null;`);
    this.addSql(`alter table "allocation" drop constraint if exists "allocation_status_check";`);
    this.addSql(`alter table "allocation" add constraint "allocation_status_check" check ("status" in ('ALLOCATED', 'RELEASED', 'FULFILLED', 'EXPIRED'));`);
    this.addSql(`alter table "allocation_line" drop constraint if exists allocation_line_settled_check;`);
    this.addSql(`alter table "allocation_line" drop column "fulfilled_quantity", drop column "released_quantity", drop column "expired_quantity";`);
  }
}
