import { loadConfig } from '../config.js';
import { createLogger } from '../log.js';
import { withDatabase } from './database.js';
import { migrate } from '../persistence/orm.js';

/**
 * Operator commands: `npm run admin -- <command>`.
 *   migrate   apply pending migrations (the service also does this at start-up)
 */
const commands: Record<string, (args: string[]) => Promise<number>> = {
  migrate: async () => {
    const config = loadConfig();
    const log = createLogger(config.logLevel);
    return withDatabase(config, log, async (orm) => {
      const applied = await migrate(orm);
      log.info({ migrations: applied }, applied.length ? 'applied migrations' : 'database is up to date');
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
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
