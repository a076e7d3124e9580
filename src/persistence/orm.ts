import 'reflect-metadata';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, PostgreSqlDriver, type Options } from '@mikro-orm/postgresql';
import type { Logger } from '../log.js';
import { entities } from './entities/index.js';
import { migrationsList } from './migrations/index.js';
import { allowPreparedStatements } from './sql.js';

export interface DatabaseSettings {
  readonly url: string;
  readonly replicaUrls?: readonly string[];
  readonly poolMin?: number;
  readonly poolMax?: number;
  readonly connectTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
  /**
   * The hot statements as named prepared statements (default true): parsed and planned once
   * per connection. Off behind a pooler that moves transactions between server sessions
   * (RDS Proxy pins a session that prepares; PgBouncer in transaction mode loses them).
   */
  readonly preparedStatements?: boolean;
}

export function ormOptions(db: DatabaseSettings, log?: Logger): Options {
  return {
    driver: PostgreSqlDriver,
    clientUrl: db.url,
    replicas: (db.replicaUrls ?? []).map((url, i) => ({ name: `replica-${i + 1}`, clientUrl: url })),
    // Reads go to the primary unless a query asks for a replica explicitly.
    preferReadReplicas: false,
    entities: [...entities],
    extensions: [Migrator],
    // Every request must fork: a query on the global EntityManager is a bug.
    allowGlobalContext: false,
    forceUtcTimezone: true,
    pool: { min: db.poolMin ?? 2, max: db.poolMax ?? 20, acquireTimeoutMillis: db.connectTimeoutMs ?? 10_000 },
    driverOptions: {
      connection: {
        connectionTimeoutMillis: db.connectTimeoutMs ?? 10_000,
        statement_timeout: db.statementTimeoutMs ?? 30_000,
      },
    },
    migrations: {
      migrationsList,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      tableName: 'mikro_orm_migrations',
    },
    logger: (message: string) => log?.debug({ orm: message }),
  };
}

export async function openOrm(db: DatabaseSettings, log?: Logger): Promise<MikroORM> {
  const orm = await MikroORM.init(ormOptions(db, log));
  allowPreparedStatements(orm.config, db.preparedStatements ?? true);
  return orm;
}

/** Applies every pending migration; returns the names applied. */
export async function migrate(orm: MikroORM): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}
