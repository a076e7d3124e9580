import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import { runningEmbeddedPostgres, startEmbeddedPostgres, type EmbeddedServer } from '../embedded/index.js';
import type { Logger } from '../log.js';
import { openOrm } from '../persistence/orm.js';

/**
 * Opens the configured database. With DATABASE_URL unset: the embedded one of a running
 * service in the same DATA_DIR, or else one started for this command.
 */
export async function withDatabase<T>(config: Config, log: Logger, work: (orm: MikroORM, url: string) => Promise<T>): Promise<T> {
  let pg: EmbeddedServer | undefined;
  let url = config.database.url;
  if (url === undefined) {
    const running = await runningEmbeddedPostgres(config);
    if (running !== undefined) {
      log.warn({ pid: running.pid }, 'attached to the embedded PostgreSQL of the running service');
      url = running.address;
    } else {
      pg = await startEmbeddedPostgres(config, log);
      url = pg.address;
    }
  }
  try {
    const orm = await openOrm({ ...config.database, url }, log);
    try {
      return await work(orm, url);
    } finally {
      await orm.close();
    }
  } finally {
    await pg?.stop();
  }
}
