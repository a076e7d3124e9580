import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { EmbeddedPostgres } from '../src/embedded/postgres.js';
import { createLogger } from '../src/log.js';
import { startChild, stopChild } from './processes.js';

/**
 * `make bench-serve`, on a second machine: the benches' databases for another machine, so that
 * only the service and its caller run on the benched one, as in production (RDS and DynamoDB
 * are not on the service's host). It starts:
 * - PostgreSQL (embedded, in a temporary directory) on all interfaces, port
 *   BENCH_POSTGRES_PORT (5432), with `track_commit_timestamp` on (bench-allocation's lag) and a
 *   new random password;
 * - DynamoDB Local behind the benches' counting proxy (bench/dynamodb-server.ts) on all
 *   interfaces, port BENCH_DYNAMODB_PORT (8000).
 * Then it prints the two settings to give the benches on the other machine, and runs until
 * SIGINT or SIGTERM, which stop both and delete the data. Neither server is fit for anything
 * but a bench on a network you trust: the emulator has no authentication.
 */
const log = createLogger('warn');
const pgPort = Number(process.env.BENCH_POSTGRES_PORT ?? 5432);
const dynamoPort = Number(process.env.BENCH_DYNAMODB_PORT ?? 8000);

const dir = await mkdtemp(path.join(os.tmpdir(), 'inventory-bench-serve-'));
await chmod(dir, 0o755);
// Password authentication from any address (the embedded server's own file allows 127.0.0.1 only).
const hbaFile = path.join(dir, 'pg_hba.conf');
await writeFile(hbaFile, 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n', { mode: 0o644 });
const server = new EmbeddedPostgres({
  dataDir: path.join(dir, 'pg'),
  port: pgPort,
  database: 'postgres',
  log,
  settings: { listen_addresses: '*', track_commit_timestamp: 'on', hba_file: hbaFile },
});
await server.start();
// Not the embedded server's well-known password: this one listens on the network.
const password = randomBytes(18).toString('base64url');
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
await admin.query(`alter user postgres password '${password}'`);
await admin.end();
const dynamo = startChild([path.join(path.dirname(fileURLToPath(import.meta.url)), 'dynamodb-server.js')], { BENCH_DYNAMODB_LISTEN: `0.0.0.0:${dynamoPort}` });
await dynamo.firstLine;

const host = Object.values(os.networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address ?? os.hostname();
process.stdout.write(
  `serving the benches' databases; on the benched machine:\n` +
    `  BENCH_POSTGRES_URL=postgresql://postgres:${password}@${host}:${pgPort}/postgres BENCH_DYNAMODB_TARGET=http://${host}:${dynamoPort} make bench-allocation\n` +
    `(or bench-latency). Ctrl-C stops both and deletes their data.\n`,
);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await stopChild(dynamo.child);
  await server.stop();
  await rm(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
