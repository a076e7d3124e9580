import type { EntityManager } from '@mikro-orm/postgresql';
import { streamIds, type DomainEvent } from '../events/types.js';
import { StockLevel } from '../persistence/entities/stock-level.entity.js';
import {
  findIncoming,
  insertIncoming,
  listIncoming,
  updateIncoming,
  type IncomingCursor,
  type IncomingFilter,
  type IncomingRecord,
} from '../persistence/repositories/incoming-stock.repository.js';
import type { CallContext, Tx, UnitOfWork } from '../persistence/unit-of-work.js';
import { DomainError, invalid, notFoundField } from './errors.js';
import { once } from './idempotency.js';
import type { PageTokens } from './paging.js';
import type { StockLevelState } from './stock-level.js';
import { levelCodec, lockCreating, optKey, requireExisting } from './stock-locks.js';
import * as sv from './stock-validation.js';
import * as v from './validation.js';

export interface RecordIncomingInput {
  incomingId: string;
  sku: string;
  warehouseCode: string;
  quantity: number | bigint;
  expectedTime: Date | undefined;
  reference: string;
}

export interface ReceiveIncomingInput {
  incomingId: string;
  quantity: number | bigint;
  reference: string;
  idempotencyKey: string;
}

export interface IncomingQuery {
  sku: string;
  warehouseCode: string;
  includeClosed: boolean;
  pageSize: number;
  pageToken: string;
}

/** Units still expected. */
export const outstanding = (r: IncomingRecord): number => (r.status === 'OPEN' ? r.quantity - r.received : 0);

const encode = (r: IncomingRecord) => ({
  ...r,
  expectedTime: r.expectedTime.toISOString(),
  createTime: r.createTime.toISOString(),
  updateTime: r.updateTime.toISOString(),
});
const decode = (j: unknown): IncomingRecord => {
  const o = j as ReturnType<typeof encode>;
  return { ...o, expectedTime: new Date(o.expectedTime), createTime: new Date(o.createTime), updateTime: new Date(o.updateTime) };
};
const receiptCodec = {
  encode: (r: { incoming: IncomingRecord; level: StockLevelState }) => ({ incoming: encode(r.incoming), level: levelCodec.encode(r.level) }),
  decode: (j: unknown) => {
    const o = j as { incoming: unknown; level: unknown };
    return { incoming: decode(o.incoming), level: levelCodec.decode(o.level) };
  },
};

/**
 * Incoming stock: units expected at a warehouse, recorded by the caller's id, received
 * against partly or fully (each receipt adds to the level's on_hand in the same
 * transaction), or cancelled. Every change is one event on the record's
 * `incoming#<sku>#<id>` stream (a receipt also a StockReceived on the level's stream).
 * Incoming units are never on hand, so allocation cannot take them.
 */
export class IncomingService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly tokens: PageTokens,
  ) {}

  record(em: EntityManager, ctx: CallContext, input: RecordIncomingInput): Promise<IncomingRecord> {
    const incomingId = sv.allocationId('incoming_id', input.incomingId);
    const sku = v.sku('sku', input.sku);
    const warehouseCode = v.warehouseCode('warehouse_code', input.warehouseCode);
    const quantity = sv.quantity('quantity', input.quantity);
    if (input.expectedTime === undefined) throw invalid('expected_time', 'is required');
    const expectedTime = sv.time('expected_time', input.expectedTime);
    const reference = v.text('reference', input.reference, 0, 200);
    return this.uow.run(em, ctx, async (tx) => {
      const n = { incomingId, sku, warehouseCode, quantity, expectedTime, reference };
      const repo = tx.em.getRepository(StockLevel);
      await requireExisting(repo, sku, [warehouseCode], ['warehouse_code']);
      if (!(await insertIncoming(tx.em, n, tx.now))) {
        // The id is the call's idempotency key: a retry gets the record as it is now.
        const existing = (await findIncoming(tx.em, incomingId))!;
        const same =
          existing.sku === sku &&
          existing.warehouseCode === warehouseCode &&
          existing.quantity === quantity &&
          existing.expectedTime.getTime() === expectedTime.getTime() &&
          existing.reference === reference;
        if (!same) {
          throw new DomainError('IDEMPOTENCY_MISMATCH', `incoming_id ${JSON.stringify(incomingId)} was already recorded with different fields`, {
            field: 'incoming_id',
          });
        }
        return existing;
      }
      tx.record(streamIds.incoming(sku, incomingId), 1, {
        type: 'IncomingStockRecorded',
        data: { incomingId, sku, warehouseCode, quantity, expectedTime: expectedTime.toISOString(), reference },
      });
      return { ...n, received: 0, status: 'OPEN', version: 1, createTime: tx.now, updateTime: tx.now };
    });
  }

  receive(em: EntityManager, ctx: CallContext, input: ReceiveIncomingInput): Promise<{ incoming: IncomingRecord; level: StockLevelState }> {
    const incomingId = sv.allocationId('incoming_id', input.incomingId);
    const quantity = sv.quantity('quantity', input.quantity);
    const referenceIn = v.text('reference', input.reference, 0, 200);
    const key = sv.idempotencyKey(input.idempotencyKey);
    const request = { incomingId, quantity, reference: referenceIn };
    return this.uow.run(em, ctx, (tx) =>
      once(tx, key, 'ReceiveIncomingStock', request, receiptCodec, async () => {
        // The record first, then its level: the same order as every allocation's row, then levels.
        const before = await this.locked(tx, incomingId);
        if (before.status !== 'OPEN') {
          throw new DomainError('FAILED_PRECONDITION', `incoming stock ${JSON.stringify(incomingId)} is ${before.status} and cannot be received against`, {
            incoming_id: incomingId,
            status: before.status,
          });
        }
        if (quantity > outstanding(before)) {
          throw new DomainError(
            'FAILED_PRECONDITION',
            `quantity: incoming stock ${JSON.stringify(incomingId)} has ${outstanding(before)} units outstanding, not ${quantity} (receive a surplus with ReceiveStock)`,
            { incoming_id: incomingId, requested: quantity, outstanding: outstanding(before) },
          );
        }
        const reference = referenceIn === '' ? before.reference : referenceIn;
        const { sku, warehouseCode } = before;
        const changes = await lockCreating(tx, sku, [{ sku, warehouseCode }], ['warehouse_code']);
        const level = changes.apply(sku, warehouseCode, { type: 'RECEIPT', onHandDelta: quantity, allocatedDelta: 0, reference, ...optKey(key) }, tx.now, (c) => ({
          type: 'StockReceived',
          data: { ...c, reference, incomingId },
        }));
        await changes.commit(tx);
        const received = before.received + quantity;
        const incoming = this.changed(tx, before, { received, status: received === before.quantity ? 'RECEIVED' : 'OPEN' }, {
          type: 'IncomingStockReceived',
          data: { incomingId, sku, warehouseCode, quantity, received, reference },
        });
        await updateIncoming(tx.em, incoming, before.version);
        return { incoming, level };
      }),
    );
  }

  cancel(em: EntityManager, ctx: CallContext, idIn: string, reasonIn: string): Promise<IncomingRecord> {
    const incomingId = sv.allocationId('incoming_id', idIn);
    const reason = v.text('reason', reasonIn, 0, 200, 'multiline');
    return this.uow.run(em, ctx, async (tx) => {
      const before = await this.locked(tx, incomingId);
      switch (before.status) {
        case 'CANCELLED':
          return before; // cancelling twice is harmless
        case 'RECEIVED':
          throw new DomainError('FAILED_PRECONDITION', `incoming stock ${JSON.stringify(incomingId)} is RECEIVED: nothing is outstanding to cancel`, {
            incoming_id: incomingId,
            status: before.status,
          });
        case 'OPEN': {
          const { sku, warehouseCode } = before;
          const incoming = this.changed(tx, before, { status: 'CANCELLED' }, {
            type: 'IncomingStockCancelled',
            data: { incomingId, sku, warehouseCode, reason, cancelled: outstanding(before) },
          });
          await updateIncoming(tx.em, incoming, before.version);
          return incoming;
        }
        default: {
          const never: never = before.status;
          throw new Error(`unknown incoming status ${String(never)}`);
        }
      }
    });
  }

  async list(em: EntityManager, q: IncomingQuery): Promise<{ incoming: IncomingRecord[]; nextPageToken: string }> {
    const filter: IncomingFilter = {
      sku: q.sku === '' ? undefined : v.sku('sku', q.sku),
      warehouseCode: q.warehouseCode === '' ? undefined : v.warehouseCode('warehouse_code', q.warehouseCode),
      includeClosed: q.includeClosed,
    };
    const size = v.pageSize(q.pageSize);
    const token = this.tokens.decode(
      'ListIncomingStock',
      filter,
      q.pageToken,
      (t): t is { t: string; i: string } => typeof t.t === 'string' && !Number.isNaN(Date.parse(t.t)) && typeof t.i === 'string' && sv.ALLOCATION_ID.test(t.i),
    );
    const after: IncomingCursor | undefined = token === undefined ? undefined : { expectedTime: new Date(token.t), incomingId: token.i };
    const rows = await listIncoming(em, filter, after, size + 1);
    const page = this.tokens.page('ListIncomingStock', filter, rows, size, (r) => ({ t: r.expectedTime.toISOString(), i: r.incomingId }));
    return { incoming: page.rows, nextPageToken: page.nextPageToken };
  }

  private async locked(tx: Tx, incomingId: string): Promise<IncomingRecord> {
    const found = await findIncoming(tx.em, incomingId, true);
    if (found === null) throw notFoundField('incoming_id', 'incoming stock', incomingId);
    return found;
  }

  /** The next version of a record, with its event recorded on the record's stream. */
  private changed(tx: Tx, before: IncomingRecord, change: Partial<Pick<IncomingRecord, 'received' | 'status'>>, event: DomainEvent): IncomingRecord {
    const next: IncomingRecord = { ...before, ...change, version: before.version + 1, updateTime: tx.now };
    tx.record(streamIds.incoming(before.sku, before.incomingId), next.version, event);
    return next;
  }
}
