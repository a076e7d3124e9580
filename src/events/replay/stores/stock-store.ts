import type { MovementType } from '../../../persistence/entities/stock-movement.entity.js';
import { createPartitionSql, partitionOf, PARTITION_LOCK_KEY } from '../../../persistence/partitions.js';
import type { StockReplay } from '../../projections/stock.js';
import { domainEventOf, parseStreamId } from '../../streams.js';
import { streamIds, type DomainEvent, type EventEnvelope, type StateMove } from '../../types.js';
import { iso, type ProjectionStore } from '../store.js';

interface Row {
  sku: string;
  warehouse_code: string;
  on_hand: string;
  allocated: string;
  damaged: string;
  quality_control: string;
  safety_stock: string;
  version: string;
  created_at: Date;
  updated_at: Date | null;
  last_movement_id: string | null;
}

/** A ledger row as the event that recorded it describes it. */
interface Movement {
  type: MovementType;
  /** Deltas of damaged, quality_control, safety_stock. */
  states: [number, number, number];
  reason: string;
  reference: string;
  allocationId: string | null;
}

/** The ledger columns an event implies (the inverse of what StockChanges writes). */
const NO_STATES: [number, number, number] = [0, 0, 0];

/** The state deltas of a move, in ledger column order. */
function stateDeltas(move: StateMove): [number, number, number] {
  const d = { available: 0, damaged: 0, qualityControl: 0, safetyStock: 0 };
  d[move.fromState] -= move.quantity;
  d[move.toState] += move.quantity;
  return [d.damaged, d.qualityControl, d.safetyStock];
}

function movementOf(ev: DomainEvent): Movement | undefined {
  switch (ev.type) {
    case 'StockReceived':
      return { type: 'RECEIPT', states: NO_STATES, reason: '', reference: ev.data.reference, allocationId: null };
    case 'StockAdjusted':
      return { type: 'ADJUSTMENT', states: NO_STATES, reason: ev.data.reason, reference: ev.data.reference, allocationId: null };
    case 'StockTransferredOut':
      return { type: 'TRANSFER_OUT', states: NO_STATES, reason: '', reference: ev.data.reference, allocationId: null };
    case 'StockTransferredIn':
      return { type: 'TRANSFER_IN', states: NO_STATES, reason: '', reference: ev.data.reference, allocationId: null };
    case 'StockAllocated':
      return { type: 'ALLOCATION', states: NO_STATES, reason: '', reference: '', allocationId: ev.data.allocationId };
    case 'StockReleased':
      return { type: ev.data.cause === 'EXPIRED' ? 'EXPIRY' : 'RELEASE', states: NO_STATES, reason: '', reference: '', allocationId: ev.data.allocationId };
    case 'StockFulfilled':
      return { type: 'FULFILMENT', states: NO_STATES, reason: '', reference: '', allocationId: ev.data.allocationId };
    case 'StockStateMoved':
      return { type: 'STATE_MOVE', states: stateDeltas(ev.data), reason: ev.data.reason, reference: ev.data.reference, allocationId: null };
    case 'WarehouseCreated':
    case 'WarehouseUpdated':
    case 'ItemCreated':
    case 'AllocationCreated':
    case 'AllocationReleased':
    case 'AllocationFulfilled':
    case 'AllocationExpired':
    case 'IncomingStockRecorded':
    case 'IncomingStockReceived':
    case 'IncomingStockCancelled':
      return undefined;
    default: {
      const never: never = ev;
      throw new Error(`unknown event ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Stock levels (`stock_level`) and their ledger (`stock_movement`). A level row with
 * version 0 was created by a change that changed nothing (a count confirming zero): it has
 * no stream, is not compared and is not rebuilt (a missing level reads as zero anyway).
 */
export const stockStore: ProjectionStore<StockReplay> = {
  kind: 'stock',
  tables: ['stock_level', 'stock_movement'],
  // stock_level.created_at is when the row was first locked, which a no-op count can put
  // before the level's first event; rebuild writes the first event's time.
  uncompared: ['createdAt'],
  async load(sql, ids) {
    const keys = ids.flatMap((id) => {
      const ref = parseStreamId(id);
      return ref?.kind === 'stock' ? [ref] : [];
    });
    // The newest ledger row is found through its time (= the level's updated_at: both are
    // written with the transaction's clock) so the lookup uses the level/time index and
    // prunes partitions instead of reading the level's whole history.
    const rows = await sql.query<Row>(
      `select s.sku, s.warehouse_code, s.on_hand, s.allocated, s.damaged, s.quality_control, s.safety_stock, s.version, s.created_at, s.updated_at, m.id as last_movement_id
         from stock_level s
         join unnest($1::text[], $2::text[]) as k(sku, code) on s.sku = k.sku and s.warehouse_code = k.code
         left join lateral (
           select id from stock_movement m
            where m.sku = s.sku and m.warehouse_code = s.warehouse_code and m.created_at = s.updated_at and m.stock_version = s.version
            order by id desc limit 1
         ) m on true
        where s.version > 0`,
      [keys.map((k) => k.sku), keys.map((k) => k.warehouseCode)],
    );
    return new Map(
      rows.map((r) => [
        streamIds.stock(r.sku, r.warehouse_code),
        {
          sku: r.sku,
          warehouseCode: r.warehouse_code,
          onHand: Number(r.on_hand),
          allocated: Number(r.allocated),
          damaged: Number(r.damaged),
          qualityControl: Number(r.quality_control),
          safetyStock: Number(r.safety_stock),
          // null when the ledger row of the current version is missing (or a row was changed
          // behind the service): shown as a difference, which is what it is
          lastMovementId: (r.last_movement_id === null ? null : Number(r.last_movement_id)) as number,
          version: Number(r.version),
          createdAt: iso(r.created_at),
          updatedAt: r.updated_at === null ? (null as unknown as string) : iso(r.updated_at),
        },
      ]),
    );
  },
  async streamIdsAfter(sql, afterStreamId, limit, onlyUnreplayed) {
    const ref = parseStreamId(afterStreamId);
    const [sku, code] = ref?.kind === 'stock' ? [ref.sku, ref.warehouseCode] : ['', ''];
    // Paged in primary-key order: the cursor is the last level returned.
    const rows = await sql.query<{ sku: string; warehouse_code: string }>(
      `select s.sku, s.warehouse_code from stock_level s
        where (s.sku, s.warehouse_code) > ($1, $2) and s.version > 0
          ${onlyUnreplayed ? `and not exists (select 1 from replay_stream r where r.stream_id = 'stock#' || s.sku || '#' || s.warehouse_code)` : ''}
        order by s.sku, s.warehouse_code limit $3`,
      [sku, code, limit],
    );
    return rows.map((r) => streamIds.stock(r.sku, r.warehouse_code));
  },
  async insert(sql, states) {
    if (states.length === 0) return;
    await sql.query(
      `insert into stock_level (sku, warehouse_code, on_hand, allocated, damaged, quality_control, safety_stock, version, created_at, updated_at)
       select * from unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $8::bigint[], $9::bigint[], $10::bigint[],
                            $5::bigint[], $6::timestamptz[], $7::timestamptz[])`,
      [
        states.map((s) => s.sku),
        states.map((s) => s.warehouseCode),
        states.map((s) => s.onHand),
        states.map((s) => s.allocated),
        states.map((s) => s.version),
        states.map((s) => s.createdAt),
        states.map((s) => s.updatedAt),
        states.map((s) => s.damaged),
        states.map((s) => s.qualityControl),
        states.map((s) => s.safetyStock),
      ],
    );
  },
  /**
   * The ledger, one row per stock event with its original id (data.movementId), so a
   * ledger reference kept outside survives the rebuild. What no event carries is lost:
   * the idempotency key of the call that made the change.
   */
  async insertEvents(sql, events) {
    const rows = events.flatMap((e) => {
      const ev = domainEventOf(e);
      const m = movementOf(ev);
      if (m === undefined || !('movementId' in ev.data)) return [];
      return [{ e, d: ev.data, m }];
    });
    if (rows.length === 0) return;
    const months = new Map(rows.map(({ e }) => [partitionOf(e.occurredAt).name, partitionOf(e.occurredAt)]));
    await sql.query('select pg_advisory_xact_lock($1)', [PARTITION_LOCK_KEY]);
    for (const p of months.values()) await sql.query(createPartitionSql(p));
    await sql.query(
      `insert into stock_movement (id, created_at, sku, warehouse_code, type, on_hand_delta, allocated_delta,
                                   damaged_delta, quality_control_delta, safety_stock_delta,
                                   reason, reference, allocation_id, idempotency_key, stock_version)
       select m.id, m.created_at, m.sku, m.code, m.type, m.on_hand_delta, m.allocated_delta, m.damaged_delta, m.quality_control_delta,
              m.safety_stock_delta, m.reason, m.reference, m.allocation_id, null, m.version
         from unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
                     $8::text[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[])
           as m(id, created_at, sku, code, type, on_hand_delta, allocated_delta, reason, reference, allocation_id, version,
                damaged_delta, quality_control_delta, safety_stock_delta)`,
      [
        rows.map((r) => r.d.movementId),
        rows.map((r) => r.e.occurredAt),
        rows.map((r) => r.d.sku),
        rows.map((r) => r.d.warehouseCode),
        rows.map((r) => r.m.type),
        rows.map((r) => r.d.onHandDelta),
        rows.map((r) => r.d.allocatedDelta),
        rows.map((r) => r.m.reason),
        rows.map((r) => r.m.reference),
        rows.map((r) => r.m.allocationId),
        rows.map((r) => r.e.version),
        rows.map((r) => r.m.states[0]),
        rows.map((r) => r.m.states[1]),
        rows.map((r) => r.m.states[2]),
      ],
    );
  },
  /** New ledger ids continue after the restored ones. */
  async finishRebuild(sql) {
    await sql.query(
      `select setval(pg_get_serial_sequence('stock_movement', 'id'), coalesce((select max(id) from stock_movement), 1),
                     (select max(id) from stock_movement) is not null)`,
    );
  },
};
