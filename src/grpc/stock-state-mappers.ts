import { StockState } from '../gen/inventory/v1/stock_states.js';
import type { StockStateName } from '../events/types.js';

/** StockState on the wire <-> the domain's state names. Nothing here decides anything. */

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
