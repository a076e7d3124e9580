import pg from 'pg';
import type { InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import type { PromiseClient } from './app.js';

/** Creates warehouses (code -> priority) and items for stock tests. */
export async function seed(
  c: PromiseClient<InventoryServiceServer>,
  warehouses: Record<string, number>,
  skus: readonly string[],
  options: { inactive?: readonly string[] } = {},
): Promise<void> {
  for (const [code, priority] of Object.entries(warehouses)) {
    await c.createWarehouse({ code, name: `Warehouse ${code}`, region: 'eu', priority, active: !(options.inactive ?? []).includes(code) });
  }
  for (const sku of skus) await c.createItem({ sku, name: `Item ${sku}`, description: '' });
}

/** Runs one query against a test database and closes the connection. */
export async function sql<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * The ledger and allocation invariants of every stock level: on_hand and each unavailable
 * state equal the sums of their ledger deltas, no count is negative, allocated equals the units of its ALLOCATED allocation lines, and
 * the level's version equals its number of ledger rows and of outbox events on its stream.
 * Returns the levels that break one (empty when all hold).
 */
export async function brokenInvariants(url: string): Promise<Array<Record<string, unknown>>> {
  return sql(
    url,
    `with ledger as (
       select sku, warehouse_code, sum(on_hand_delta) as on_hand, sum(allocated_delta) as allocated, sum(damaged_delta) as damaged,
              sum(quality_control_delta) as quality_control, sum(safety_stock_delta) as safety_stock, count(*) as rows,
              max(stock_version) as max_version
         from stock_movement group by sku, warehouse_code
     ), promised as (
       select l.sku, l.warehouse_code, sum(l.quantity) as allocated
         from allocation_line l join allocation a using (allocation_id)
        where a.status = 'ALLOCATED' group by l.sku, l.warehouse_code
     ), events as (
       select stream_id, count(*) as n, max(version) as max_version from event_outbox group by stream_id
     )
     select s.sku, s.warehouse_code, s.on_hand, s.allocated, s.damaged, s.quality_control, s.safety_stock, s.version,
            coalesce(g.on_hand, 0) as ledger_on_hand, coalesce(g.allocated, 0) as ledger_allocated,
            coalesce(p.allocated, 0) as promised, coalesce(g.rows, 0) as ledger_rows, coalesce(e.n, 0) as events
       from stock_level s
       left join ledger g using (sku, warehouse_code)
       left join promised p using (sku, warehouse_code)
       left join events e on e.stream_id = 'stock#' || s.sku || '#' || s.warehouse_code
      where s.on_hand <> coalesce(g.on_hand, 0)
         or s.allocated <> coalesce(g.allocated, 0)
         or s.damaged <> coalesce(g.damaged, 0)
         or s.quality_control <> coalesce(g.quality_control, 0)
         or s.safety_stock <> coalesce(g.safety_stock, 0)
         or least(s.on_hand, s.allocated, s.damaged, s.quality_control, s.safety_stock) < 0
         or s.allocated + s.damaged + s.quality_control + s.safety_stock > s.on_hand
         or s.allocated <> coalesce(p.allocated, 0)
         or s.version <> coalesce(g.rows, 0)
         or s.version <> coalesce(g.max_version, 0)
         or s.version <> coalesce(e.n, 0)
         or s.version <> coalesce(e.max_version, 0)`,
  );
}
