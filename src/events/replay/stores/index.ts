import type { Versioned } from '../../projections/projection.js';
import type { StreamKind } from '../../streams.js';
import type { ProjectionStore } from '../store.js';
import { allocationStore } from './allocation-store.js';
import { incomingStore } from './incoming-store.js';
import { itemStore } from './item-store.js';
import { stockStore } from './stock-store.js';
import { warehouseStore } from './warehouse-store.js';

/**
 * The PostgreSQL half of each projection, in rebuild order (referenced rows first).
 * A kind whose store is undefined is replayed and checked, but not compared or rebuilt.
 */
export const STORE_ORDER: readonly StreamKind[] = ['warehouse', 'item', 'stock', 'allocation', 'incoming'];

export const stores: { readonly [K in StreamKind]: ProjectionStore<Versioned> | undefined } = {
  warehouse: warehouseStore as unknown as ProjectionStore<Versioned>,
  item: itemStore as unknown as ProjectionStore<Versioned>,
  stock: stockStore as unknown as ProjectionStore<Versioned> | undefined,
  allocation: allocationStore as unknown as ProjectionStore<Versioned> | undefined,
  incoming: incomingStore as unknown as ProjectionStore<Versioned> | undefined,
};
