import type { EntityManager } from '@mikro-orm/postgresql';
import { StockLevel } from '../persistence/entities/stock-level.entity.js';
import { openIncomingOf, type IncomingRecord } from '../persistence/repositories/incoming-stock.repository.js';
import type { LowStockCursor, LowStockFilter } from '../persistence/repositories/stock-level.repository.js';
import { findMovements, type MovementCursor, type MovementFilter, type MovementRecord } from '../persistence/repositories/stock-movement.repository.js';
import type { CallContext, UnitOfWork } from '../persistence/unit-of-work.js';
import { DomainError, invalid } from './errors.js';
import { once } from './idempotency.js';
import type { PageTokens } from './paging.js';
import { available, emptyLevel, MAX_ON_HAND, unavailable, type StockLevelState } from './stock-level.js';
import { levelCodec, lockCreating, optKey, requireExisting, requireVersion, transferCodec } from './stock-locks.js';
import * as sv from './stock-validation.js';
import * as v from './validation.js';

export interface ReceiveStockInput {
  sku: string;
  warehouseCode: string;
  quantity: number | bigint;
  reference: string;
  idempotencyKey: string;
}

export type AdjustChange = { kind: 'delta'; value: number | bigint } | { kind: 'newOnHand'; value: number | bigint };

export interface AdjustStockInput {
  sku: string;
  warehouseCode: string;
  change: AdjustChange | undefined;
  reason: string;
  reference: string;
  expectedVersion: number | undefined;
  idempotencyKey: string;
}

export interface TransferStockInput {
  sku: string;
  fromWarehouseCode: string;
  toWarehouseCode: string;
  quantity: number | bigint;
  reference: string;
  idempotencyKey: string;
}

export interface Availability {
  sku: string;
  onHand: number;
  allocated: number;
  damaged: number;
  qualityControl: number;
  safetyStock: number;
  unavailable: number;
  available: number;
  /** Available in active warehouses: what AllocateStock can place. */
  allocatable: number;
  levels: StockLevelState[];
  /** Units of OPEN incoming stock still outstanding; never allocatable. */
  incoming: number;
  /** The first OPEN incoming stock records, earliest expected first. */
  incomingStock: IncomingRecord[];
}

/** How many incoming records GetAvailability lists (ListIncomingStock pages through all). */
export const AVAILABILITY_INCOMING_LIMIT = 100;

export interface LowStockQuery {
  threshold: number | bigint;
  warehouseCode: string;
  pageSize: number;
  pageToken: string;
}

export interface MovementQuery {
  sku: string;
  warehouseCode: string;
  startTime: Date | undefined;
  endTime: Date | undefined;
  pageSize: number;
  pageToken: string;
}

/**
 * Receipts, adjustments, transfers and stock reads. Every change locks its levels (one
 * ordered statement), applies the domain rules in memory, and writes levels, ledger rows
 * and events in the same transaction; with an idempotency key, at most once.
 */
export class StockService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly tokens: PageTokens,
  ) {}

  receive(em: EntityManager, ctx: CallContext, input: ReceiveStockInput): Promise<StockLevelState> {
    const sku = v.sku('sku', input.sku);
    const warehouseCode = v.warehouseCode('warehouse_code', input.warehouseCode);
    const quantity = sv.quantity('quantity', input.quantity);
    const reference = v.text('reference', input.reference, 0, 200);
    const key = sv.idempotencyKey(input.idempotencyKey);
    const request = { sku, warehouseCode, quantity, reference };
    return this.uow.run(em, ctx, (tx) =>
      once(tx, key, 'ReceiveStock', request, levelCodec, async () => {
        const changes = await lockCreating(tx, sku, [{ sku, warehouseCode }], ['warehouse_code']);
        const level = changes.apply(sku, warehouseCode, { type: 'RECEIPT', onHandDelta: quantity, allocatedDelta: 0, reference, ...optKey(key) }, tx.now, (c) => ({
          type: 'StockReceived',
          data: { ...c, reference },
        }));
        await changes.commit(tx);
        return level;
      }),
    );
  }

  adjust(em: EntityManager, ctx: CallContext, input: AdjustStockInput): Promise<StockLevelState> {
    const sku = v.sku('sku', input.sku);
    const warehouseCode = v.warehouseCode('warehouse_code', input.warehouseCode);
    if (input.change === undefined) throw invalid('delta', 'set exactly one of delta or new_on_hand');
    const change =
      input.change.kind === 'delta'
        ? { kind: 'delta' as const, value: v.intInRange('delta', input.change.value, -sv.MAX_QUANTITY, sv.MAX_QUANTITY) }
        : { kind: 'newOnHand' as const, value: v.intInRange('new_on_hand', input.change.value, 0, MAX_ON_HAND) };
    if (change.kind === 'delta' && change.value === 0) throw invalid('delta', 'must not be 0');
    const reason = v.text('reason', input.reason, 1, 200, 'multiline');
    const reference = v.text('reference', input.reference, 0, 200);
    const expected =
      input.expectedVersion === undefined ? undefined : v.intInRange('expected_version', input.expectedVersion, 0, Number.MAX_SAFE_INTEGER);
    const key = sv.idempotencyKey(input.idempotencyKey);
    const request = { sku, warehouseCode, change, reason, reference, expected: expected ?? null };
    return this.uow.run(em, ctx, (tx) =>
      once(tx, key, 'AdjustStock', request, levelCodec, async () => {
        const changes = await lockCreating(tx, sku, [{ sku, warehouseCode }], ['warehouse_code']);
        const level = changes.level(sku, warehouseCode);
        requireVersion(level, expected);
        const delta = change.kind === 'delta' ? change.value : change.value - level.onHand;
        if (delta === 0) return level; // a count that confirms the books changes nothing
        const next = changes.apply(sku, warehouseCode, { type: 'ADJUSTMENT', onHandDelta: delta, allocatedDelta: 0, reason, reference, ...optKey(key) }, tx.now, (c) => ({
          type: 'StockAdjusted',
          data: { ...c, reason, reference },
        }));
        await changes.commit(tx);
        return next;
      }),
    );
  }

  transfer(em: EntityManager, ctx: CallContext, input: TransferStockInput): Promise<{ from: StockLevelState; to: StockLevelState }> {
    const sku = v.sku('sku', input.sku);
    const from = v.warehouseCode('from_warehouse_code', input.fromWarehouseCode);
    const to = v.warehouseCode('to_warehouse_code', input.toWarehouseCode);
    if (from === to) throw invalid('to_warehouse_code', 'must differ from from_warehouse_code');
    const quantity = sv.quantity('quantity', input.quantity);
    const reference = v.text('reference', input.reference, 0, 200);
    const key = sv.idempotencyKey(input.idempotencyKey);
    const request = { sku, from, to, quantity, reference };
    return this.uow.run(em, ctx, (tx) =>
      once(tx, key, 'TransferStock', request, transferCodec, async () => {
        const changes = await lockCreating(
          tx,
          sku,
          [
            { sku, warehouseCode: from },
            { sku, warehouseCode: to },
          ],
          ['from_warehouse_code', 'to_warehouse_code'],
        );
        const source = changes.level(sku, from);
        if (available(source) < quantity) {
          throw new DomainError(
            'FAILED_PRECONDITION',
            `not enough available stock of sku ${JSON.stringify(sku)} in warehouse ${JSON.stringify(from)}: requested ${quantity}, available ${available(source)}`,
            { sku, warehouse_code: from, requested: quantity, available: available(source) },
          );
        }
        const movement = { reference, ...optKey(key) };
        const out = changes.apply(sku, from, { type: 'TRANSFER_OUT', onHandDelta: -quantity, allocatedDelta: 0, ...movement }, tx.now, (c) => ({
          type: 'StockTransferredOut',
          data: { ...c, toWarehouseCode: to, reference },
        }));
        const into = changes.apply(sku, to, { type: 'TRANSFER_IN', onHandDelta: quantity, allocatedDelta: 0, ...movement }, tx.now, (c) => ({
          type: 'StockTransferredIn',
          data: { ...c, fromWarehouseCode: from, reference },
        }));
        await changes.commit(tx);
        return { from: out, to: into };
      }),
    );
  }

  async getLevel(em: EntityManager, skuIn: string, warehouseIn: string): Promise<StockLevelState> {
    const sku = v.sku('sku', skuIn);
    const warehouseCode = v.warehouseCode('warehouse_code', warehouseIn);
    const repo = em.getRepository(StockLevel);
    const level = await repo.findLevel(sku, warehouseCode);
    if (level !== null) return level;
    await requireExisting(repo, sku, [warehouseCode], ['warehouse_code']);
    return emptyLevel(sku, warehouseCode);
  }

  async availability(em: EntityManager, skuIn: string): Promise<Availability> {
    const sku = v.sku('sku', skuIn);
    const repo = em.getRepository(StockLevel);
    const levels = await repo.findBySku(sku);
    if (levels.length === 0) await requireExisting(repo, sku, [], []);
    const incoming = await openIncomingOf(em, sku, AVAILABILITY_INCOMING_LIMIT);
    const sum = (f: (l: (typeof levels)[number]) => number) => levels.reduce((s, l) => s + f(l), 0);
    return {
      sku,
      onHand: sum((l) => l.onHand),
      allocated: sum((l) => l.allocated),
      damaged: sum((l) => l.damaged),
      qualityControl: sum((l) => l.qualityControl),
      safetyStock: sum((l) => l.safetyStock),
      unavailable: sum(unavailable),
      available: sum(available),
      allocatable: sum((l) => (l.active ? available(l) : 0)),
      levels: levels.map(({ active: _active, ...level }) => level),
      incoming: incoming.outstanding,
      incomingStock: incoming.first,
    };
  }

  async movements(em: EntityManager, q: MovementQuery): Promise<{ movements: MovementRecord[]; nextPageToken: string }> {
    const filter: MovementFilter = {
      sku: q.sku === '' ? undefined : v.sku('sku', q.sku),
      warehouseCode: q.warehouseCode === '' ? undefined : v.warehouseCode('warehouse_code', q.warehouseCode),
      startTime: sv.optionalTime('start_time', q.startTime),
      endTime: sv.optionalTime('end_time', q.endTime),
    };
    if (filter.startTime !== undefined && filter.endTime !== undefined && filter.endTime <= filter.startTime) {
      throw invalid('end_time', 'must be after start_time');
    }
    const size = v.pageSize(q.pageSize);
    const token = this.tokens.decode(
      'ListStockMovements',
      filter,
      q.pageToken,
      (t): t is { t: string; id: number } =>
        typeof t.t === 'string' && isStorableTime(t.t) && Number.isSafeInteger(t.id) && (t.id as number) > 0,
    );
    const after: MovementCursor | undefined = token === undefined ? undefined : { createTime: new Date(token.t), id: token.id };
    const rows = await findMovements(em, filter, after, size + 1);
    const page = this.tokens.page('ListStockMovements', filter, rows, size, (m) => ({ t: m.createTime.toISOString(), id: m.id }));
    return { movements: page.rows, nextPageToken: page.nextPageToken };
  }

  /**
   * ListLowStock. The warehouse filter is checked on the primary (a warehouse created a
   * moment ago exists even if the replica has not caught up); the levels come from a replica
   * when one is configured.
   */
  async lowStock(em: EntityManager, q: LowStockQuery): Promise<{ levels: StockLevelState[]; nextPageToken: string }> {
    const filter: LowStockFilter = {
      threshold: v.intInRange('threshold', q.threshold, 0, MAX_ON_HAND),
      warehouseCode: q.warehouseCode === '' ? undefined : v.warehouseCode('warehouse_code', q.warehouseCode),
    };
    const size = v.pageSize(q.pageSize);
    const token = this.tokens.decode(
      'ListLowStock',
      filter,
      q.pageToken,
      (t): t is { a: number; s: string; w: string } =>
        Number.isSafeInteger(t.a) && typeof t.s === 'string' && v.SKU.test(t.s) && typeof t.w === 'string' && v.WAREHOUSE_CODE.test(t.w),
    );
    const repo = em.getRepository(StockLevel);
    if (filter.warehouseCode !== undefined) await requireExisting(repo, undefined, [filter.warehouseCode], ['warehouse_code']);
    const after: LowStockCursor | undefined = token === undefined ? undefined : { available: token.a, sku: token.s, warehouseCode: token.w };
    const rows = await repo.findLow(filter, after, size + 1);
    const page = this.tokens.page('ListLowStock', filter, rows, size, (l) => ({ a: available(l), s: l.sku, w: l.warehouseCode }));
    return { levels: page.rows, nextPageToken: page.nextPageToken };
  }
}

/** A cursor time: an ISO string of a time the database can hold. */
function isStorableTime(iso: string): boolean {
  const ms = Date.parse(iso);
  return ms >= sv.MIN_TIME_MS && ms <= sv.MAX_TIME_MS;
}

