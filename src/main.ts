import { startApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { EventTableError } from './events/table-check.js';
import { createLogger } from './log.js';
import { redact } from './redact.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${redact(err.message)}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const app = await startApp(config, log);
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    signalled = true;
    log.info({ signal }, 'shutting down');
    app.stop().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  // A refusal is a message for the operator, not a crash: no stack trace.
  const text = err instanceof EventTableError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`inventory service failed to start: ${redact(text)}\n`);
  process.exit(1);
});
