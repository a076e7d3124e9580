import path from 'node:path';
import pg from 'pg';
import { EmbeddedPostgres } from '../src/embedded/postgres.js';
import type { Logger } from '../src/log.js';
import { postmasterPid, treeCpuMs } from './measure.js';
import { freePort, runId } from './processes.js';

/** The PostgreSQL a bench runs on: its own embedded server, or a database of its own on BENCH_POSTGRES_URL's. */
export interface BenchPostgres {
  /** The bench's database. */
  readonly url: string;
  /** Where it runs: `embedded`, or the host of BENCH_POSTGRES_URL. */
  readonly where: string;
  /** The server's CPU milliseconds so far (its whole process tree) when it runs on this machine, else undefined. */
  cpuMs(): number | undefined;
  /** Stops the embedded server, or drops the database made on the other server. */
  stop(): Promise<void>;
}

/**
 * BENCH_POSTGRES_URL=postgresql://user:password@host:5432/postgres: no embedded server; the
 * bench makes a database of its own there (`bench_<name>_<run>`, so the user needs CREATEDB)
 * and drops it at the end. With DynamoDB there too (BENCH_DYNAMODB_TARGET), only the service
 * and the caller run on this machine, as in production. `settings` the bench needs (such as
 * `track_commit_timestamp`) must already be set on that server: checked, never changed.
 */
export async function benchPostgres(dir: string, name: string, log: Logger, settings: Readonly<Record<string, string>> = {}): Promise<BenchPostgres> {
  const remote = process.env.BENCH_POSTGRES_URL;
  if (remote === undefined || remote === '') {
    const dataDir = path.join(dir, 'pg');
    const server = new EmbeddedPostgres({ dataDir, port: await freePort(), database: 'bench', log, settings });
    await server.start();
    return { url: server.url, where: 'embedded', cpuMs: () => treeCpuMs(postmasterPid(dataDir)), stop: () => server.stop() };
  }
  const database = `bench_${name}_${runId()}`;
  const admin = new pg.Client({ connectionString: remote });
  await admin.connect();
  try {
    for (const [setting, wanted] of Object.entries(settings)) {
      const { rows } = await admin.query<Record<string, string>>(`show ${setting}`);
      const value = Object.values(rows[0] ?? {})[0];
      if (value !== wanted) {
        throw new Error(`BENCH_POSTGRES_URL: the bench needs ${setting} = ${wanted} on that server (it is ${value}): ALTER SYSTEM SET ${setting} = '${wanted}', then restart it`);
      }
    }
    await admin.query(`create database ${database}`);
  } finally {
    await admin.end();
  }
  const url = new URL(remote);
  url.pathname = `/${database}`;
  return {
    url: url.toString(),
    where: url.host,
    cpuMs: () => undefined,
    stop: async () => {
      const dropper = new pg.Client({ connectionString: remote });
      await dropper.connect();
      try {
        await dropper.query(`drop database if exists ${database} with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
