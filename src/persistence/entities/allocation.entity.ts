import { Entity, EntityRepositoryType, Enum, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { AllocationRepository } from '../repositories/allocation.repository.js';

export const ALLOCATION_STATUSES = ['ALLOCATED', 'RELEASED', 'FULFILLED', 'EXPIRED', 'PARTIALLY_FULFILLED'] as const;
export type AllocationStatus = (typeof ALLOCATION_STATUSES)[number];

/**
 * Stock promised to an order. The id is chosen by the caller and is the idempotency key of
 * AllocateStock; `request_hash` fingerprints the request that created it so a repeat with
 * different lines is told apart from a retry. Lines live in `allocation_line`.
 */
@Entity({ tableName: 'allocation', repository: () => AllocationRepository })
// The expiry sweeper's queue: only allocations that still hold stock and can expire.
@Index({
  name: 'allocation_expiry_idx',
  expression: `create index "allocation_expiry_idx" on "allocation" ("expire_time") where "status" in ('ALLOCATED', 'PARTIALLY_FULFILLED') and "expire_time" is not null`,
})
export class Allocation {
  [EntityRepositoryType]?: AllocationRepository;
  [OptionalProps]?: 'version' | 'expireTime' | 'owner';

  @PrimaryKey({ type: 'string', length: 128 })
  allocationId: string;

  @Enum({ items: [...ALLOCATION_STATUSES], type: 'string', length: 16 })
  status: AllocationStatus;

  @Property({ type: 'string', length: 64 })
  requestHash: string;

  /** The identity that created it: it (or an admin) may release or fulfil it. */
  @Property({ type: 'string', length: 300, default: 'unknown' })
  owner: string = 'unknown';

  @Property({ type: 'datetime', columnType: 'timestamptz', nullable: true })
  expireTime: Date | null = null;

  /** Equals the version of the `allocation#ID` event stream. */
  @Property({ type: 'integer', default: 1 })
  version: number = 1;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  updatedAt: Date;

  constructor(allocationId: string, requestHash: string, now: Date) {
    this.allocationId = allocationId;
    this.status = 'ALLOCATED';
    this.requestHash = requestHash;
    this.createdAt = now;
    this.updatedAt = now;
  }
}
