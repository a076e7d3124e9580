import type { MikroORM } from '@mikro-orm/postgresql';
import { Counter, Gauge, type Registry } from 'prom-client';

/** What the metrics read of a knex (tarn) pool. */
interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  readonly max: number;
}

interface KnexLike {
  readonly client: { readonly pool?: TarnPool };
  on(event: 'query-error', listener: (err: unknown) => void): unknown;
}

/** The primary and each replica, by the names MikroORM gives them (`replica-1`, ...). */
function pools(orm: MikroORM): Array<{ pool: string; knex: KnexLike }> {
  const driver = orm.em.getDriver();
  // MikroORM keeps the replica connections in a protected field and has no accessor.
  const replicas = (driver as unknown as { replicas: Array<{ getKnex(): unknown; config: { get(k: 'name'): string | undefined } }> }).replicas;
  return [
    { pool: 'primary', knex: driver.getConnection('write').getKnex() as unknown as KnexLike },
    ...replicas.map((c, i) => ({ pool: `replica-${i + 1}`, knex: c.getKnex() as unknown as KnexLike })),
  ];
}

/** PostgreSQL pool gauges per pool, read at scrape time, and statement timeouts as they happen. */
export function registerPoolMetrics(registry: Registry, orm: MikroORM): void {
  const all = pools(orm);
  const gauge = (name: string, help: string, read: (p: TarnPool) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['pool'],
      registers: [registry],
      collect() {
        for (const { pool, knex } of all) {
          const p = knex.client.pool;
          if (p !== undefined) this.set({ pool }, read(p));
        }
      },
    });
  gauge('inventory_db_pool_connections', 'Connections open in the pool (in use plus idle).', (p) => p.numUsed() + p.numFree());
  gauge('inventory_db_pool_idle_connections', 'Open connections not in use.', (p) => p.numFree());
  gauge('inventory_db_pool_waiting', 'Queries waiting for a connection.', (p) => p.numPendingAcquires());
  gauge('inventory_db_pool_max_connections', 'DATABASE_POOL_MAX: the most connections the pool opens.', (p) => p.max);
  const timeouts = new Counter({
    name: 'inventory_db_statement_timeouts_total',
    help: 'Statements cancelled by DATABASE_STATEMENT_TIMEOUT_MS (SQLSTATE 57014).',
    labelNames: ['pool'],
    registers: [registry],
  });
  for (const { pool, knex } of all) {
    timeouts.inc({ pool }, 0);
    knex.on('query-error', (err) => {
      if ((err as { code?: unknown }).code === '57014') timeouts.inc({ pool });
    });
  }
}
