import { sortLines, type AllocationReplay, type AllocationStatusName } from '../../projections/allocation.js';
import { streamIds } from '../../types.js';
import { iso, type ProjectionStore } from '../store.js';

interface Row {
  allocation_id: string;
  status: AllocationStatusName;
  request_hash: string;
  owner: string;
  expire_time: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  lines: Array<{ sku: string; warehouse_code: string; quantity: number | string; fulfilled: number | string; released: number | string; expired: number | string }> | null;
}

/**
 * Allocations (`allocation`) with their lines (`allocation_line`). Stock levels are
 * rebuilt before allocations, and an allocation's lines are inserted with it.
 */
export const allocationStore: ProjectionStore<AllocationReplay> = {
  kind: 'allocation',
  tables: ['allocation', 'allocation_line'],
  async load(sql, ids) {
    const allocationIds = ids.map((id) => id.slice('allocation#'.length));
    const rows = await sql.query<Row>(
      `select a.allocation_id, a.status, a.request_hash, a.owner, a.expire_time, a.version, a.created_at, a.updated_at,
              (select json_agg(json_build_object('sku', l.sku, 'warehouse_code', l.warehouse_code, 'quantity', l.quantity,
                                                 'fulfilled', l.fulfilled_quantity, 'released', l.released_quantity, 'expired', l.expired_quantity))
                 from allocation_line l where l.allocation_id = a.allocation_id) as lines
         from allocation a where a.allocation_id = any($1)`,
      [allocationIds],
    );
    return new Map(
      rows.map((r) => [
        streamIds.allocation(r.allocation_id),
        {
          allocationId: r.allocation_id,
          status: r.status,
          lines: sortLines(
            (r.lines ?? []).map((l) => ({
              sku: l.sku,
              warehouseCode: l.warehouse_code,
              quantity: Number(l.quantity),
              fulfilled: Number(l.fulfilled),
              released: Number(l.released),
              expired: Number(l.expired),
            })),
          ),
          expireTime: r.expire_time === null ? null : iso(r.expire_time),
          requestHash: r.request_hash,
          owner: r.owner,
          version: r.version,
          createdAt: iso(r.created_at),
          updatedAt: iso(r.updated_at),
        },
      ]),
    );
  },
  async streamIdsAfter(sql, afterStreamId, limit, onlyUnreplayed) {
    const after = afterStreamId.startsWith('allocation#') ? afterStreamId.slice('allocation#'.length) : '';
    const rows = await sql.query<{ allocation_id: string }>(
      `select a.allocation_id from allocation a
        where a.allocation_id > $1 ${onlyUnreplayed ? `and not exists (select 1 from replay_stream r where r.stream_id = 'allocation#' || a.allocation_id)` : ''}
        order by a.allocation_id limit $2`,
      [after, limit],
    );
    return rows.map((r) => streamIds.allocation(r.allocation_id));
  },
  async insert(sql, states) {
    if (states.length === 0) return;
    await sql.query(
      `insert into allocation (allocation_id, status, request_hash, expire_time, version, created_at, updated_at, owner)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::int[], $6::timestamptz[], $7::timestamptz[], $8::text[])`,
      [
        states.map((s) => s.allocationId),
        states.map((s) => s.status),
        // An event from before the hash was recorded: a retry of that AllocateStock call
        // will be told IDEMPOTENCY_MISMATCH instead of getting the allocation back.
        states.map((s) => s.requestHash ?? ''),
        states.map((s) => s.expireTime),
        states.map((s) => s.version),
        states.map((s) => s.createdAt),
        states.map((s) => s.updatedAt),
        states.map((s) => s.owner),
      ],
    );
    const lines = states.flatMap((s) => s.lines.map((l) => ({ id: s.allocationId, ...l })));
    await sql.query(
      `insert into allocation_line (allocation_id, sku, warehouse_code, quantity, fulfilled_quantity, released_quantity, expired_quantity)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])`,
      [
        lines.map((l) => l.id),
        lines.map((l) => l.sku),
        lines.map((l) => l.warehouseCode),
        lines.map((l) => l.quantity),
        lines.map((l) => l.fulfilled),
        lines.map((l) => l.released),
        lines.map((l) => l.expired),
      ],
    );
  },
};
