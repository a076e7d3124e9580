import { EntityRepository } from '@mikro-orm/postgresql';
import type { AllocationStatus } from '../entities/allocation.entity.js';
import type { Allocation } from '../entities/allocation.entity.js';
import { date, dateOrNull, num, PREPARED, query } from '../sql.js';

export interface AllocationLineRecord {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly quantity: number;
  /** Units shipped, given back by a release, given back by the expiry; the rest is held. */
  readonly fulfilled: number;
  readonly released: number;
  readonly expired: number;
}

export interface AllocationRecord {
  readonly allocationId: string;
  readonly status: AllocationStatus;
  readonly requestHash: string;
  /** The identity that created it. */
  readonly owner: string;
  readonly lines: readonly AllocationLineRecord[];
  readonly expireTime: Date | null;
  readonly version: number;
  readonly createTime: Date;
  readonly updateTime: Date;
}

export type NewAllocation = Omit<AllocationRecord, 'status' | 'version' | 'updateTime' | 'lines'> & {
  readonly lines: ReadonlyArray<Pick<AllocationLineRecord, 'sku' | 'warehouseCode' | 'quantity'>>;
};

interface AllocationRow {
  allocation_id: string;
  status: AllocationStatus;
  request_hash: string;
  owner: string;
  expire_time: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  lines: Array<{ sku: string; warehouse_code: string; quantity: number | string; fulfilled: number | string; released: number | string; expired: number | string }> | null;
}

const SELECT = `select a.allocation_id, a.status, a.request_hash, a.owner, a.expire_time, a.version, a.created_at, a.updated_at,
       (select json_agg(json_build_object('sku', l.sku, 'warehouse_code', l.warehouse_code, 'quantity', l.quantity,
                                           'fulfilled', l.fulfilled_quantity, 'released', l.released_quantity, 'expired', l.expired_quantity)
                        order by l.sku, l.warehouse_code)
          from allocation_line l where l.allocation_id = a.allocation_id) as lines
  from allocation a`;

const toRecord = (r: AllocationRow): AllocationRecord => ({
  allocationId: r.allocation_id,
  status: r.status,
  requestHash: r.request_hash,
  owner: r.owner,
  lines: (r.lines ?? []).map((l) => ({
    sku: l.sku,
    warehouseCode: l.warehouse_code,
    quantity: num(l.quantity),
    fulfilled: num(l.fulfilled),
    released: num(l.released),
    expired: num(l.expired),
  })),
  expireTime: dateOrNull(r.expire_time),
  version: r.version,
  createTime: date(r.created_at),
  updateTime: date(r.updated_at),
});

export class AllocationRepository extends EntityRepository<Allocation> {
  /**
   * Inserts new allocations with their lines in one statement and returns the ids that
   * were inserted. An id that exists already is skipped (ON CONFLICT DO NOTHING); if
   * another transaction is inserting it right now, PostgreSQL makes this one wait for it,
   * which is what serialises concurrent duplicates. Rows go in id order so two
   * transactions inserting overlapping ids cannot deadlock.
   */
  async insertNew(allocations: readonly NewAllocation[]): Promise<Set<string>> {
    if (allocations.length === 0) return new Set();
    const sorted = [...allocations].sort((a, b) => (a.allocationId < b.allocationId ? -1 : a.allocationId > b.allocationId ? 1 : 0));
    const lines = sorted.flatMap((a) => a.lines.map((l) => ({ id: a.allocationId, ...l })));
    const rows = await query<{ allocation_id: string }>(
      this.getEntityManager(),
      `with inserted as (
         insert into allocation (allocation_id, status, request_hash, owner, expire_time, version, created_at, updated_at)
         select x.id, 'ALLOCATED', x.hash, x.owner, x.expire_time, 1, x.created_at, x.created_at
           from unnest(?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::timestamptz[]) as x(id, hash, owner, expire_time, created_at)
         on conflict do nothing
         returning allocation_id
       ), lines as (
         insert into allocation_line (allocation_id, sku, warehouse_code, quantity)
         select y.id, y.sku, y.code, y.quantity
           from unnest(?::text[], ?::text[], ?::text[], ?::bigint[]) as y(id, sku, code, quantity)
          where y.id in (select allocation_id from inserted)
       )
       select allocation_id from inserted`,
      [
        sorted.map((a) => a.allocationId),
        sorted.map((a) => a.requestHash),
        sorted.map((a) => a.owner),
        sorted.map((a) => a.expireTime),
        sorted.map((a) => a.createTime),
        lines.map((l) => l.id),
        lines.map((l) => l.sku),
        lines.map((l) => l.warehouseCode),
        lines.map((l) => l.quantity),
      ],
      PREPARED,
    );
    return new Set(rows.map((r) => r.allocation_id));
  }

  async findWithLines(ids: readonly string[]): Promise<Map<string, AllocationRecord>> {
    if (ids.length === 0) return new Map();
    const rows = await query<AllocationRow>(this.getEntityManager(), `${SELECT} where a.allocation_id = any(?::text[])`, [ids], PREPARED);
    return new Map(rows.map((r) => [r.allocation_id, toRecord(r)]));
  }

  /** Reads and row-locks one allocation (its lines come along, unlocked: only the holder of the allocation's lock changes them). */
  async lockWithLines(id: string): Promise<AllocationRecord | null> {
    const rows = await query<AllocationRow>(this.getEntityManager(), `${SELECT} where a.allocation_id = ? for update of a`, [id], PREPARED);
    return rows[0] === undefined ? null : toRecord(rows[0]);
  }

  /**
   * Locks the allocation still holding units whose expire_time passed longest ago, skipping
   * those another transaction (another sweeper, an ExtendAllocation) holds; null when none
   * is due. Under READ COMMITTED a row changed since the statement's snapshot is re-checked
   * against the condition, so an expire_time just moved by ExtendAllocation is honoured.
   */
  async lockNextDue(now: Date): Promise<AllocationRecord | null> {
    const rows = await query<AllocationRow>(
      this.getEntityManager(),
      `${SELECT} where a.status in ('ALLOCATED', 'PARTIALLY_FULFILLED') and a.expire_time is not null and a.expire_time <= ?
        order by a.expire_time limit 1 for update of a skip locked`,
      [now],
      PREPARED,
    );
    return rows[0] === undefined ? null : toRecord(rows[0]);
  }

  /** Writes a settlement: the allocation's new status and version, and the settled units of every line. */
  async saveSettlement(id: string, status: AllocationStatus, version: number, now: Date, lines: readonly AllocationLineRecord[]): Promise<void> {
    await query(
      this.getEntityManager(),
      `with lines as (
         update allocation_line l set fulfilled_quantity = x.fulfilled, released_quantity = x.released, expired_quantity = x.expired
           from unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[]) as x(sku, code, fulfilled, released, expired)
          where l.allocation_id = ? and l.sku = x.sku and l.warehouse_code = x.code
       )
       update allocation set status = ?, version = ?, updated_at = ? where allocation_id = ?`,
      [
        lines.map((l) => l.sku),
        lines.map((l) => l.warehouseCode),
        lines.map((l) => l.fulfilled),
        lines.map((l) => l.released),
        lines.map((l) => l.expired),
        id,
        status,
        version,
        now,
        id,
      ],
      PREPARED,
    );
  }

  async setExpireTime(id: string, expireTime: Date | null, version: number, now: Date): Promise<void> {
    await query(this.getEntityManager(), `update allocation set expire_time = ?, version = ?, updated_at = ? where allocation_id = ?`, [expireTime, version, now, id], PREPARED);
  }
}
