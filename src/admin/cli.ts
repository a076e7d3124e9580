import { loadConfig } from '../config.js';
import { provisionTable } from '../events/provision.js';
import { NotEmptyError, rebuildFromEventStore } from '../events/replay/rebuild.js';
import { verifyEventStore } from '../events/replay/verify.js';
import { createLogger } from '../log.js';
import { redact } from '../redact.js';
import { migrate } from '../persistence/orm.js';
import { withDatabase } from './database.js';
import { withEventStore, withSession } from './event-store.js';

/**
 * Operator commands: `npm run admin -- <command>`.
 *   migrate    apply pending migrations (the service also does this at start-up)
 *   verify     replay every stream from DynamoDB and compare with PostgreSQL; exit 1 on any difference
 *   rebuild    reconstruct PostgreSQL from DynamoDB into an empty database; exit 1 on problems
 *   provision  create or reconcile the event table: on-demand capacity, TTL, point-in-time recovery; exit 1 if a step failed
 * Reports go to stdout as plain lines; logs (JSON) to stdout at LOG_LEVEL (default warn here).
 */
const print = (line: string) => process.stdout.write(`${line}\n`);

const setup = () => {
  const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
  return { config, log: createLogger(config.logLevel) };
};

const commands: Record<string, (args: string[]) => Promise<number>> = {
  migrate: async () => {
    const { config, log } = setup();
    return withDatabase(config, log, async (orm) => {
      const applied = await migrate(orm);
      print(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database is up to date');
      return 0;
    });
  },
  verify: async () => {
    const { config, log } = setup();
    return withDatabase(config, log, (_orm, url) =>
      withEventStore(config, log, (dynamo) =>
        withSession(url, async (sql) => {
          const result = await verifyEventStore({ dynamo, table: config.dynamodb.table, sql, print });
          return result.differences === 0 ? 0 : 1;
        }),
      ),
    );
  },
  rebuild: async () => {
    const { config, log } = setup();
    return withDatabase(config, log, async (orm, url) => {
      const applied = await migrate(orm);
      if (applied.length > 0) print(`applied migrations: ${applied.join(', ')}`);
      return withEventStore(config, log, (dynamo) =>
        withSession(url, async (sql) => {
          try {
            const result = await rebuildFromEventStore({ dynamo, table: config.dynamodb.table, sql, print });
            return result.problems === 0 ? 0 : 1;
          } catch (err) {
            if (!(err instanceof NotEmptyError)) throw err;
            print(err.message);
            return 2;
          }
        }),
      );
    });
  },
  provision: async () => {
    const { config, log } = setup();
    return withEventStore(config, log, async (dynamo) => {
      const results = await provisionTable(dynamo, config.dynamodb.table, print);
      const failed = results.filter((r) => r.outcome === 'failed').map((r) => r.step);
      const skipped = results.filter((r) => r.outcome === 'unsupported').map((r) => r.step);
      if (failed.length > 0) {
        print(`provision: FAILED (${failed.join(', ')}); the table is not ready for production`);
        return 1;
      }
      print(skipped.length === 0 ? 'provision: done' : `provision: done; not supported by this endpoint, skipped: ${skipped.join(', ')}`);
      return 0;
    });
  },
};

const [name, ...rest] = process.argv.slice(2);
const command = name === undefined ? undefined : commands[name];
if (command === undefined) {
  process.stderr.write(`usage: npm run admin -- <${Object.keys(commands).join('|')}>\n`);
  process.exit(2);
}
command(rest).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${redact(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
    process.exit(1);
  },
);
