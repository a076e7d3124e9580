import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../embedded/index.js';
import type { Logger } from '../log.js';
import { openOrm } from '../persistence/orm.js';

/** Opens the configured database (starting the embedded one when DATABASE_URL is unset). */
export async function withDatabase<T>(config: Config, log: Logger, work: (orm: MikroORM, url: string) => Promise<T>): Promise<T> {
  let pg: EmbeddedServer | undefined;
  let url = config.database.url;
  if (url === undefined) {
    pg = await startEmbeddedPostgres(config, log);
    url = pg.address;
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
