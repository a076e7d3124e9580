import { randomUUID } from 'node:crypto';
import type pg from 'pg';

/**
 * The ceiling: the same allocation transaction the service runs for one AllocateStock call
 * (lock the sku's levels in key order, place, insert the allocation and its line, update
 * the level and append the ledger row, write the two outbox events), issued as raw SQL
 * through `pg` with no gRPC, no ORM and no event relay.
 */
export async function rawAllocate(pool: pg.Pool, allocationId: string, sku: string, quantity: number): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query<{ warehouse_code: string; on_hand: string; allocated: string; version: string; priority: number; active: boolean }>(
      `select s.sku, s.warehouse_code, s.on_hand, s.allocated, s.version, s.updated_at, w.priority, w.active
         from stock_level s join warehouse w on w.code = s.warehouse_code
        where s.sku = any($1::text[]) order by s.sku, s.warehouse_code for update of s`,
      [[sku]],
    );
    const level = rows
      .filter((r) => r.active && Number(r.on_hand) - Number(r.allocated) >= quantity)
      .sort((a, b) => a.priority - b.priority || (a.warehouse_code < b.warehouse_code ? -1 : 1))[0];
    if (level === undefined) {
      await client.query('rollback');
      return false;
    }
    const now = new Date();
    await client.query(
      `with inserted as (
         insert into allocation (allocation_id, status, request_hash, expire_time, version, created_at, updated_at)
         values ($1, 'ALLOCATED', $2, null, 1, $3, $3) on conflict do nothing returning allocation_id
       ) insert into allocation_line (allocation_id, sku, warehouse_code, quantity)
         select allocation_id, $4, $5, $6 from inserted`,
      [allocationId, 'raw', now, sku, level.warehouse_code, quantity],
    );
    const version = Number(level.version) + 1;
    const allocated = Number(level.allocated) + quantity;
    const moved = await client.query<{ id: string }>(
      `with changed as (
         update stock_level set allocated = $1, version = $2, updated_at = $3
          where sku = $4 and warehouse_code = $5 and version = $6 returning 1
       ) insert into stock_movement (created_at, sku, warehouse_code, type, on_hand_delta, allocated_delta, allocation_id, stock_version)
         values ($3, $4, $5, 'ALLOCATION', 0, $7, $8, $2) returning id`,
      [allocated, version, now, sku, level.warehouse_code, level.version, quantity, allocationId],
    );
    const stockEvent = { sku, warehouseCode: level.warehouse_code, onHandDelta: 0, allocatedDelta: quantity, onHand: Number(level.on_hand), allocated, movementId: Number(moved.rows[0]!.id), allocationId };
    const allocationEvent = { allocationId, lines: [{ sku, warehouseCode: level.warehouse_code, quantity }], expireTime: null };
    await client.query(
      `insert into event_outbox (event_id, stream_id, version, type, schema_version, payload, correlation_id, occurred_at)
       values ($1, $2, $3, 'StockAllocated', 1, $4, $5, $6), ($7, $8, 1, 'AllocationCreated', 1, $9, $5, $6)`,
      [randomUUID(), `stock#${sku}#${level.warehouse_code}`, version, JSON.stringify(stockEvent), randomUUID(), now, randomUUID(), `allocation#${allocationId}`, JSON.stringify(allocationEvent)],
    );
    await client.query('commit');
    return true;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
