import type { IncomingReplay } from '../../projections/incoming.js';
import { parseStreamId } from '../../streams.js';
import { streamIds } from '../../types.js';
import { iso, type ProjectionStore } from '../store.js';

interface Row {
  incoming_id: string;
  sku: string;
  warehouse_code: string;
  quantity: string;
  received: string;
  status: IncomingReplay['status'];
  expected_time: Date;
  reference: string;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** Incoming stock (`incoming_stock`), one row per `incoming#<sku>#<id>` stream. */
export const incomingStore: ProjectionStore<IncomingReplay> = {
  kind: 'incoming',
  tables: ['incoming_stock'],
  async load(sql, ids) {
    const refs = ids.flatMap((id) => {
      const ref = parseStreamId(id);
      return ref?.kind === 'incoming' ? [ref] : [];
    });
    const rows = await sql.query<Row>(
      `select incoming_id, sku, warehouse_code, quantity, received, status, expected_time, reference, version, created_at, updated_at
         from incoming_stock where incoming_id = any($1::text[])`,
      [refs.map((r) => r.incomingId)],
    );
    return new Map(
      rows.map((r) => [
        streamIds.incoming(r.sku, r.incoming_id),
        {
          incomingId: r.incoming_id,
          sku: r.sku,
          warehouseCode: r.warehouse_code,
          quantity: Number(r.quantity),
          received: Number(r.received),
          status: r.status,
          expectedTime: iso(r.expected_time),
          reference: r.reference,
          version: r.version,
          createdAt: iso(r.created_at),
          updatedAt: iso(r.updated_at),
        },
      ]),
    );
  },
  async streamIdsAfter(sql, afterStreamId, limit, onlyUnreplayed) {
    // Paged in stream id order, which is (sku, incoming_id) order.
    const ref = parseStreamId(afterStreamId);
    const [sku, id] = ref?.kind === 'incoming' ? [ref.sku, ref.incomingId] : ['', ''];
    const rows = await sql.query<{ sku: string; incoming_id: string }>(
      `select i.sku, i.incoming_id from incoming_stock i
        where (i.sku, i.incoming_id) > ($1, $2)
          ${onlyUnreplayed ? `and not exists (select 1 from replay_stream r where r.stream_id = 'incoming#' || i.sku || '#' || i.incoming_id)` : ''}
        order by i.sku, i.incoming_id limit $3`,
      [sku, id, limit],
    );
    return rows.map((r) => streamIds.incoming(r.sku, r.incoming_id));
  },
  async insert(sql, states) {
    if (states.length === 0) return;
    await sql.query(
      `insert into incoming_stock (incoming_id, sku, warehouse_code, quantity, received, status, expected_time, reference, version, created_at, updated_at)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::timestamptz[], $8::text[], $9::int[],
                            $10::timestamptz[], $11::timestamptz[])`,
      [
        states.map((s) => s.incomingId),
        states.map((s) => s.sku),
        states.map((s) => s.warehouseCode),
        states.map((s) => s.quantity),
        states.map((s) => s.received),
        states.map((s) => s.status),
        states.map((s) => s.expectedTime),
        states.map((s) => s.reference),
        states.map((s) => s.version),
        states.map((s) => s.createdAt),
        states.map((s) => s.updatedAt),
      ],
    );
  },
};
