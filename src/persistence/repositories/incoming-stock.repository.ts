import type { EntityManager } from '@mikro-orm/postgresql';
import type { IncomingStatus } from '../entities/incoming-stock.entity.js';
import { date, num, query } from '../sql.js';

/** Incoming stock as the domain sees it. */
export interface IncomingRecord {
  readonly incomingId: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly quantity: number;
  readonly received: number;
  readonly status: IncomingStatus;
  readonly expectedTime: Date;
  readonly reference: string;
  readonly version: number;
  readonly createTime: Date;
  readonly updateTime: Date;
}

export type NewIncoming = Omit<IncomingRecord, 'received' | 'status' | 'version' | 'createTime' | 'updateTime'>;

export interface IncomingFilter {
  readonly sku: string | undefined;
  readonly warehouseCode: string | undefined;
  readonly includeClosed: boolean;
}

export interface IncomingCursor {
  readonly expectedTime: Date;
  readonly incomingId: string;
}

interface Row {
  incoming_id: string;
  sku: string;
  warehouse_code: string;
  quantity: string;
  received: string;
  status: IncomingStatus;
  expected_time: string;
  reference: string;
  version: number;
  created_at: string;
  updated_at: string;
}

const COLUMNS = 'incoming_id, sku, warehouse_code, quantity, received, status, expected_time, reference, version, created_at, updated_at';

const toRecord = (r: Row): IncomingRecord => ({
  incomingId: r.incoming_id,
  sku: r.sku,
  warehouseCode: r.warehouse_code,
  quantity: num(r.quantity),
  received: num(r.received),
  status: r.status,
  expectedTime: date(r.expected_time),
  reference: r.reference,
  version: r.version,
  createTime: date(r.created_at),
  updateTime: date(r.updated_at),
});

/** Inserts the record unless its id exists; true when it was inserted. */
export async function insertIncoming(em: EntityManager, n: NewIncoming, now: Date): Promise<boolean> {
  const rows = await query<{ incoming_id: string }>(
    em,
    `insert into incoming_stock (incoming_id, sku, warehouse_code, quantity, expected_time, reference, created_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (incoming_id) do nothing returning incoming_id`,
    [n.incomingId, n.sku, n.warehouseCode, n.quantity, n.expectedTime, n.reference, now, now],
  );
  return rows.length === 1;
}

/** Reads one record; with `lock`, locks it for the rest of the transaction. */
export async function findIncoming(em: EntityManager, incomingId: string, lock = false): Promise<IncomingRecord | null> {
  const rows = await query<Row>(em, `select ${COLUMNS} from incoming_stock where incoming_id = ?${lock ? ' for update' : ''}`, [incomingId]);
  return rows[0] === undefined ? null : toRecord(rows[0]);
}

/** Writes a changed record; the version check turns a forgotten lock into a loud failure. */
export async function updateIncoming(em: EntityManager, r: IncomingRecord, previousVersion: number): Promise<void> {
  const rows = await query<{ incoming_id: string }>(
    em,
    `update incoming_stock set received = ?, status = ?, version = ?, updated_at = ? where incoming_id = ? and version = ? returning incoming_id`,
    [r.received, r.status, r.version, r.updateTime, r.incomingId, previousVersion],
  );
  if (rows.length !== 1) throw new Error(`incoming stock ${r.incomingId} changed under a lock (expected version ${previousVersion})`);
}

/** ListIncomingStock: keyset pages in (expected_time, incoming_id) order. */
export async function listIncoming(em: EntityManager, f: IncomingFilter, after: IncomingCursor | undefined, limit: number): Promise<IncomingRecord[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.sku !== undefined) {
    where.push('sku = ?');
    params.push(f.sku);
  }
  if (f.warehouseCode !== undefined) {
    where.push('warehouse_code = ?');
    params.push(f.warehouseCode);
  }
  if (!f.includeClosed) where.push(`status = 'OPEN'`);
  if (after !== undefined) {
    where.push('(expected_time, incoming_id) > (?, ?)');
    params.push(after.expectedTime, after.incomingId);
  }
  params.push(limit);
  const rows = await query<Row>(
    em,
    `select ${COLUMNS} from incoming_stock ${where.length > 0 ? `where ${where.join(' and ')}` : ''}
      order by expected_time, incoming_id limit ?`,
    params,
  );
  return rows.map(toRecord);
}

/**
 * GetAvailability's incoming part in one statement: the outstanding units of every OPEN
 * record of the sku (the window sum runs before the LIMIT) and the first `limit` records,
 * along `incoming_stock_sku_time_idx`.
 */
export async function openIncomingOf(em: EntityManager, sku: string, limit: number): Promise<{ outstanding: number; first: IncomingRecord[] }> {
  const rows = await query<Row & { total: string }>(
    em,
    `select ${COLUMNS}, sum(quantity - received) over () as total from incoming_stock
      where sku = ? and status = 'OPEN' order by expected_time, incoming_id limit ?`,
    [sku, limit],
  );
  return { outstanding: rows[0] === undefined ? 0 : num(rows[0].total), first: rows.map(toRecord) };
}
