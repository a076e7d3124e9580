import type { StreamKind } from '../streams.js';
import { allocationProjection } from './allocation.js';
import { incomingProjection } from './incoming.js';
import { itemProjection } from './item.js';
import type { Projection, Versioned } from './projection.js';
import { stockProjection } from './stock.js';
import { warehouseProjection } from './warehouse.js';

/** One projection per stream kind. */
export const projections: { readonly [K in StreamKind]: Projection<Versioned> } = {
  warehouse: warehouseProjection as unknown as Projection<Versioned>,
  item: itemProjection as unknown as Projection<Versioned>,
  stock: stockProjection as unknown as Projection<Versioned>,
  allocation: allocationProjection as unknown as Projection<Versioned>,
  incoming: incomingProjection as unknown as Projection<Versioned>,
};
