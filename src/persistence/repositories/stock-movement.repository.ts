import type { EntityManager } from '@mikro-orm/postgresql';
import type { StockLevelState } from '../../inventory/stock-level.js';
import type { MovementType } from '../entities/stock-movement.entity.js';
import { ON_REPLICA } from '../reporting.js';
import { date, num, PREPARED, query } from '../sql.js';

export interface NewMovement {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly type: MovementType;
  readonly onHandDelta: number;
  readonly allocatedDelta: number;
  readonly damagedDelta: number;
  readonly qualityControlDelta: number;
  readonly safetyStockDelta: number;
  readonly reason: string;
  readonly reference: string;
  readonly allocationId: string | null;
  readonly idempotencyKey: string | null;
  /** The level's version after this movement: (sku, warehouse, stock_version) is unique. */
  readonly stockVersion: number;
}

export interface MovementRecord extends NewMovement {
  readonly id: number;
  readonly createTime: Date;
}

export interface MovementFilter {
  readonly sku: string | undefined;
  readonly warehouseCode: string | undefined;
  /** Inclusive. */
  readonly startTime: Date | undefined;
  /** Exclusive. */
  readonly endTime: Date | undefined;
}

export interface MovementCursor {
  readonly createTime: Date;
  readonly id: number;
}

/**
 * Writes changed levels and their ledger rows in ONE statement (one round trip), and
 * returns the new movement ids in the order of `movements`. Each level is updated only if
 * it is still at the version it was read at (`previousVersion`): the row locks make that
 * always true, and the count check turns a forgotten lock into a loud failure instead of a
 * lost update.
 */
export async function writeLevelsAndMovements(
  em: EntityManager,
  levels: ReadonlyArray<StockLevelState & { previousVersion: number }>,
  movements: readonly NewMovement[],
  now: Date,
): Promise<number[]> {
  if (movements.length === 0) return [];
  const rows = await query<{ id: string; sku: string; warehouse_code: string; stock_version: string; changed: number }>(
    em,
    `with changed as (
       update stock_level s
          set on_hand = v.on_hand, allocated = v.allocated, damaged = v.damaged, quality_control = v.quality_control,
              safety_stock = v.safety_stock, version = v.version, updated_at = ?
         from unnest(?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[])
              as v(sku, code, on_hand, allocated, damaged, quality_control, safety_stock, version, previous_version)
        where s.sku = v.sku and s.warehouse_code = v.code and s.version = v.previous_version
       returning 1
     ), moved as (
       insert into stock_movement (created_at, sku, warehouse_code, type, on_hand_delta, allocated_delta,
                                   damaged_delta, quality_control_delta, safety_stock_delta,
                                   reason, reference, allocation_id, idempotency_key, stock_version)
       select ?, m.* from unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[],
                                 ?::text[], ?::text[], ?::text[], ?::text[], ?::bigint[])
              as m(sku, code, type, on_hand_delta, allocated_delta, damaged_delta, quality_control_delta, safety_stock_delta,
                   reason, reference, allocation_id, idempotency_key, stock_version)
       returning id, sku, warehouse_code, stock_version
     )
     select moved.*, (select count(*) from changed)::int as changed from moved`,
    [
      now,
      levels.map((l) => l.sku),
      levels.map((l) => l.warehouseCode),
      levels.map((l) => l.onHand),
      levels.map((l) => l.allocated),
      levels.map((l) => l.damaged),
      levels.map((l) => l.qualityControl),
      levels.map((l) => l.safetyStock),
      levels.map((l) => l.version),
      levels.map((l) => l.previousVersion),
      now,
      movements.map((m) => m.sku),
      movements.map((m) => m.warehouseCode),
      movements.map((m) => m.type),
      movements.map((m) => m.onHandDelta),
      movements.map((m) => m.allocatedDelta),
      movements.map((m) => m.damagedDelta),
      movements.map((m) => m.qualityControlDelta),
      movements.map((m) => m.safetyStockDelta),
      movements.map((m) => m.reason),
      movements.map((m) => m.reference),
      movements.map((m) => m.allocationId),
      movements.map((m) => m.idempotencyKey),
      movements.map((m) => m.stockVersion),
    ],
    PREPARED,
  );
  if (rows.length !== movements.length || rows[0]!.changed !== levels.length) {
    throw new Error(`stock write mismatch: ${rows[0]?.changed ?? 0} of ${levels.length} levels updated, ${rows.length} of ${movements.length} movements`);
  }
  const ids = new Map(rows.map((r) => [`${r.sku}#${r.warehouse_code}#${r.stock_version}`, num(r.id)]));
  return movements.map((m) => ids.get(`${m.sku}#${m.warehouseCode}#${m.stockVersion}`)!);
}

/**
 * The ledger query behind ListStockMovements, newest first, keyset-paginated on
 * (created_at, id). Exported so a test can EXPLAIN exactly what the service runs: the
 * created_at bounds are plain comparisons on the partition key, so PostgreSQL prunes the
 * monthly partitions outside the range.
 */
export function movementPageQuery(filter: MovementFilter, after: MovementCursor | undefined, limit: number): { text: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.sku !== undefined) {
    where.push('sku = ?');
    params.push(filter.sku);
  }
  if (filter.warehouseCode !== undefined) {
    where.push('warehouse_code = ?');
    params.push(filter.warehouseCode);
  }
  if (filter.startTime !== undefined) {
    where.push('created_at >= ?');
    params.push(filter.startTime);
  }
  if (filter.endTime !== undefined) {
    where.push('created_at < ?');
    params.push(filter.endTime);
  }
  if (after !== undefined) {
    // Also a bound on the partition key, so later pages prune too.
    where.push('created_at <= ?', '(created_at, id) < (?, ?)');
    params.push(after.createTime, after.createTime, after.id);
  }
  params.push(limit);
  return {
    text: `select id, created_at, sku, warehouse_code, type, on_hand_delta, allocated_delta,
                  damaged_delta, quality_control_delta, safety_stock_delta, reason, reference,
                  allocation_id, idempotency_key, stock_version
             from stock_movement
            ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
            order by created_at desc, id desc
            limit ?`,
    params,
  };
}

interface MovementRow {
  id: string;
  created_at: string;
  sku: string;
  warehouse_code: string;
  type: MovementType;
  on_hand_delta: string;
  allocated_delta: string;
  damaged_delta: string;
  quality_control_delta: string;
  safety_stock_delta: string;
  reason: string;
  reference: string;
  allocation_id: string | null;
  idempotency_key: string | null;
  stock_version: string;
}

export async function findMovements(
  em: EntityManager,
  filter: MovementFilter,
  after: MovementCursor | undefined,
  limit: number,
): Promise<MovementRecord[]> {
  const { text, params } = movementPageQuery(filter, after, limit);
  // A reporting query: on a read replica when one is configured.
  const rows = await query<MovementRow>(em, text, params, ON_REPLICA);
  return rows.map((r) => ({
    id: num(r.id),
    createTime: date(r.created_at),
    sku: r.sku,
    warehouseCode: r.warehouse_code,
    type: r.type,
    onHandDelta: num(r.on_hand_delta),
    allocatedDelta: num(r.allocated_delta),
    damagedDelta: num(r.damaged_delta),
    qualityControlDelta: num(r.quality_control_delta),
    safetyStockDelta: num(r.safety_stock_delta),
    reason: r.reason,
    reference: r.reference,
    allocationId: r.allocation_id,
    idempotencyKey: r.idempotency_key,
    stockVersion: num(r.stock_version),
  }));
}
