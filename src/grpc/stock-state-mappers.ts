import { IncomingStatus, StockState, type IncomingStock as IncomingStockMessage } from '../gen/inventory/v1/stock_states.js';
import type { StockStateName } from '../events/types.js';
import { outstanding } from '../inventory/incoming.js';
import type { IncomingRecord } from '../persistence/repositories/incoming-stock.repository.js';

/** Stock states and incoming stock on the wire <-> the domain. Nothing here decides anything. */

const NAME_OF: Readonly<Partial<Record<StockState, StockStateName>>> = {
  [StockState.STOCK_STATE_AVAILABLE]: 'available',
  [StockState.STOCK_STATE_DAMAGED]: 'damaged',
  [StockState.STOCK_STATE_QUALITY_CONTROL]: 'qualityControl',
  [StockState.STOCK_STATE_SAFETY_STOCK]: 'safetyStock',
};

const STATE_OF: Readonly<Record<StockStateName, StockState>> = {
  available: StockState.STOCK_STATE_AVAILABLE,
  damaged: StockState.STOCK_STATE_DAMAGED,
  qualityControl: StockState.STOCK_STATE_QUALITY_CONTROL,
  safetyStock: StockState.STOCK_STATE_SAFETY_STOCK,
};

/** undefined for UNSPECIFIED or a number this build does not know: the domain rejects it naming the field. */
export const toStateName = (s: StockState): StockStateName | undefined => NAME_OF[s];

export const toStockStateMessage = (name: StockStateName): StockState => STATE_OF[name];

const INCOMING_STATUS: Readonly<Record<IncomingRecord['status'], IncomingStatus>> = {
  OPEN: IncomingStatus.INCOMING_STATUS_OPEN,
  RECEIVED: IncomingStatus.INCOMING_STATUS_RECEIVED,
  CANCELLED: IncomingStatus.INCOMING_STATUS_CANCELLED,
};

export const toIncomingMessage = (r: IncomingRecord): IncomingStockMessage => ({
  incomingId: r.incomingId,
  sku: r.sku,
  warehouseCode: r.warehouseCode,
  quantity: BigInt(r.quantity),
  received: BigInt(r.received),
  outstanding: BigInt(outstanding(r)),
  status: INCOMING_STATUS[r.status],
  expectedTime: r.expectedTime,
  reference: r.reference,
  version: BigInt(r.version),
  createTime: r.createTime,
  updateTime: r.updateTime,
});
