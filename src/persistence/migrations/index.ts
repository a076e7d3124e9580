import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261125000001Foundation } from './Migration20261125000001Foundation.js';
import { Migration20261125000002Stock } from './Migration20261125000002Stock.js';
import { Migration20261125000003Events } from './Migration20261125000003Events.js';
import { Migration20261126000001CacheNotify } from './Migration20261126000001CacheNotify.js';
import { Migration20261126000002LowStock } from './Migration20261126000002LowStock.js';
import { Migration20261201000001OutboxTraceContext } from './Migration20261201000001OutboxTraceContext.js';
import { Migration20261201000001Actors } from './Migration20261201000001Actors.js';
import { Migration20261201090000Integrity } from './Migration20261201090000Integrity.js';
import { Migration20261202100000StockStates } from './Migration20261202100000StockStates.js';
import { Migration20261202100001IncomingStock } from './Migration20261202100001IncomingStock.js';
import { Migration20261202110000AllocationChanges } from './Migration20261202110000AllocationChanges.js';
import { Migration20261202120000StockImports } from './Migration20261202120000StockImports.js';
import { Migration20261207100000FeedSequenceFunction } from './Migration20261207100000FeedSequenceFunction.js';

/** Every migration, in order. Committed, applied at start-up and by `make migrate`. */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261125000001Foundation', class: Migration20261125000001Foundation },
  { name: 'Migration20261125000002Stock', class: Migration20261125000002Stock },
  { name: 'Migration20261125000003Events', class: Migration20261125000003Events },
  { name: 'Migration20261126000001CacheNotify', class: Migration20261126000001CacheNotify },
  { name: 'Migration20261126000002LowStock', class: Migration20261126000002LowStock },
  { name: 'Migration20261201000001OutboxTraceContext', class: Migration20261201000001OutboxTraceContext },
  { name: 'Migration20261201000001Actors', class: Migration20261201000001Actors },
  { name: 'Migration20261201090000Integrity', class: Migration20261201090000Integrity },
  { name: 'Migration20261202100000StockStates', class: Migration20261202100000StockStates },
  { name: 'Migration20261202100001IncomingStock', class: Migration20261202100001IncomingStock },
  { name: 'Migration20261202110000AllocationChanges', class: Migration20261202110000AllocationChanges },
  { name: 'Migration20261202120000StockImports', class: Migration20261202120000StockImports },
  { name: 'Migration20261207100000FeedSequenceFunction', class: Migration20261207100000FeedSequenceFunction },
];
