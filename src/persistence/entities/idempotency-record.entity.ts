import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * One idempotency key of a mutating call (ReceiveStock, AdjustStock, TransferStock),
 * written in the same transaction as the change it made. The row is inserted first, so
 * its unique key makes a concurrent duplicate wait for the first call and then read its
 * stored response. AllocateStock needs no row here: its allocation id is the key.
 */
@Entity({ tableName: 'idempotency_record' })
export class IdempotencyRecord {
  /** The caller's identity: the same key from two callers is two keys. */
  @PrimaryKey({ type: 'string', length: 300 })
  owner!: string;

  @PrimaryKey({ type: 'string', length: 128 })
  key!: string;

  @Property({ type: 'string', length: 32 })
  operation!: string;

  /** sha256 of the canonical request: the same key with another request is refused. */
  @Property({ type: 'string', length: 64 })
  requestHash!: string;

  @Property({ type: 'json', nullable: true })
  response!: unknown;

  @Index({ name: 'idempotency_record_created_at_idx' })
  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt!: Date;
}
