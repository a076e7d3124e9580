import { BigIntType, Entity, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * The online auditor's checkpoint: a single row (id 1). `position` is the last global feed
 * position whose streams were audited; the sweep cursor walks every stream slowly.
 */
@Entity({ tableName: 'integrity_audit' })
export class IntegrityAudit {
  [OptionalProps]?: 'position' | 'sweepKind' | 'sweepAfter' | 'sweepsCompleted' | 'updatedAt';

  @PrimaryKey({ type: 'integer', autoincrement: false })
  id: number = 1;

  @Property({ type: new BigIntType('number'), default: 0 })
  position: number = 0;

  @Property({ type: 'string', length: 32, default: '' })
  sweepKind: string = '';

  @Property({ type: 'string', length: 300, default: '' })
  sweepAfter: string = '';

  @Property({ type: 'integer', default: 0 })
  sweepsCompleted: number = 0;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  updatedAt: Date | null = null;
}

/** A confirmed difference between the two stores; resolved when a later audit of the stream passes. */
@Entity({ tableName: 'integrity_finding' })
export class IntegrityFinding {
  [OptionalProps]?: 'id' | 'resolvedAt';

  @PrimaryKey({ type: new BigIntType('number'), autoincrement: true })
  id!: number;

  @Property({ type: 'string', length: 32 })
  kind: string;

  @Index({ name: 'integrity_finding_open_idx', expression: 'create index "integrity_finding_open_idx" on "integrity_finding" ("stream_id") where "resolved_at" is null' })
  @Property({ type: 'string', length: 300 })
  streamId: string;

  @Property({ type: 'text' })
  detail: string;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  foundAt: Date;

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  resolvedAt: Date | null = null;

  constructor(init: { kind: string; streamId: string; detail: string; foundAt: Date }) {
    this.kind = init.kind;
    this.streamId = init.streamId;
    this.detail = init.detail;
    this.foundAt = init.foundAt;
  }
}
