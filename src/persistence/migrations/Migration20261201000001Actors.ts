import { Migration } from '@mikro-orm/migrations';

/**
 * Who did it (docs/security.md):
 * - `event_outbox.actor`: the identity that caused each event. Rows from before read
 *   `unknown`, and so does a row an older instance writes during a rolling upgrade.
 * - `allocation.owner`: the identity that created an allocation, the only one (with
 *   `admin`) that may release or fulfil it. Existing allocations belong to `unknown`:
 *   nobody may claim them, so once authentication is on only an admin can close them.
 * - `idempotency_record.owner`: keys are scoped to the caller. Existing keys were claimed
 *   without authentication, that is by `anonymous`; a retry that arrives with
 *   authentication already on counts as a new call, so turn authentication on only once
 *   the clients' retries from before the upgrade have run out.
 * Every default is a constant, so adding the columns rewrites no table.
 */
export class Migration20261201000001Actors extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "event_outbox" add column "actor" varchar(300) not null default 'unknown';`);
    this.addSql(`alter table "allocation" add column "owner" varchar(300) not null default 'unknown';`);
    this.addSql(`alter table "idempotency_record" add column "owner" varchar(300) not null default 'anonymous';`);
    // The default only fills the existing rows: every new key names its owner.
    this.addSql(`alter table "idempotency_record" alter column "owner" drop default;`);
    this.addSql(
      `alter table "idempotency_record" drop constraint "idempotency_record_pkey", add constraint "idempotency_record_pkey" primary key ("owner", "key");`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`delete from "idempotency_record" where "owner" <> 'anonymous';`);
    this.addSql(`alter table "idempotency_record" drop constraint "idempotency_record_pkey", add constraint "idempotency_record_pkey" primary key ("key");`);
    this.addSql(`alter table "idempotency_record" drop column "owner";`);
    this.addSql(`alter table "allocation" drop column "owner";`);
    this.addSql(`alter table "event_outbox" drop column "actor";`);
  }
}
