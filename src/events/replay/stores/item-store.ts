import type { ItemReplay } from '../../projections/item.js';
import { streamIds } from '../../types.js';
import { iso, type ProjectionStore } from '../store.js';

interface Row {
  sku: string;
  name: string;
  description: string;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const itemStore: ProjectionStore<ItemReplay> = {
  kind: 'item',
  tables: ['item'],
  async load(sql, ids) {
    const skus = ids.map((id) => id.slice('item#'.length));
    const rows = await sql.query<Row>('select sku, name, description, version, created_at, updated_at from item where sku = any($1)', [skus]);
    return new Map(
      rows.map((r) => [
        streamIds.item(r.sku),
        { sku: r.sku, name: r.name, description: r.description, version: r.version, createdAt: iso(r.created_at), updatedAt: iso(r.updated_at) },
      ]),
    );
  },
  async streamIdsAfter(sql, afterStreamId, limit, onlyUnreplayed) {
    const after = afterStreamId.startsWith('item#') ? afterStreamId.slice(5) : '';
    const rows = await sql.query<{ sku: string }>(
      `select i.sku from item i
        where i.sku > $1 ${onlyUnreplayed ? `and not exists (select 1 from replay_stream r where r.stream_id = 'item#' || i.sku)` : ''}
        order by i.sku limit $2`,
      [after, limit],
    );
    return rows.map((r) => streamIds.item(r.sku));
  },
  async insert(sql, states) {
    if (states.length === 0) return;
    await sql.query(
      `insert into item (sku, name, description, version, created_at, updated_at)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::timestamptz[])`,
      [
        states.map((s) => s.sku),
        states.map((s) => s.name),
        states.map((s) => s.description),
        states.map((s) => s.version),
        states.map((s) => s.createdAt),
        states.map((s) => s.updatedAt),
      ],
    );
  },
};
