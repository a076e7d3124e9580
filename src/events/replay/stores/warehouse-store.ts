import type { WarehouseReplay } from '../../projections/warehouse.js';
import { streamIds } from '../../types.js';
import { iso, type ProjectionStore } from '../store.js';

interface Row {
  code: string;
  name: string;
  region: string;
  priority: number;
  active: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const warehouseStore: ProjectionStore<WarehouseReplay> = {
  kind: 'warehouse',
  tables: ['warehouse'],
  async load(sql, ids) {
    const codes = ids.map((id) => id.slice('warehouse#'.length));
    const rows = await sql.query<Row>(
      'select code, name, region, priority, active, version, created_at, updated_at from warehouse where code = any($1)',
      [codes],
    );
    return new Map(
      rows.map((r) => [
        streamIds.warehouse(r.code),
        {
          code: r.code,
          name: r.name,
          region: r.region,
          priority: r.priority,
          active: r.active,
          version: r.version,
          createdAt: iso(r.created_at),
          updatedAt: iso(r.updated_at),
        },
      ]),
    );
  },
  async streamIdsAfter(sql, afterStreamId, limit, onlyUnreplayed) {
    const after = afterStreamId.startsWith('warehouse#') ? afterStreamId.slice(10) : '';
    const rows = await sql.query<{ code: string }>(
      `select w.code from warehouse w
        where w.code > $1 ${onlyUnreplayed ? `and not exists (select 1 from replay_stream r where r.stream_id = 'warehouse#' || w.code)` : ''}
        order by w.code limit $2`,
      [after, limit],
    );
    return rows.map((r) => streamIds.warehouse(r.code));
  },
  async insert(sql, states) {
    if (states.length === 0) return;
    await sql.query(
      `insert into warehouse (code, name, region, priority, active, version, created_at, updated_at)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::boolean[], $6::int[], $7::timestamptz[], $8::timestamptz[])`,
      [
        states.map((s) => s.code),
        states.map((s) => s.name),
        states.map((s) => s.region),
        states.map((s) => s.priority),
        states.map((s) => s.active),
        states.map((s) => s.version),
        states.map((s) => s.createdAt),
        states.map((s) => s.updatedAt),
      ],
    );
  },
};
