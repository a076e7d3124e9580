// The image's entry point: `node docker/launch.mjs <module> [args...]`. Adds the database
// URLs (database-urls.mjs) to the environment, then runs the module in this same process,
// so signals (SIGTERM for the graceful stop) reach the service directly.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { databaseUrls } from './database-urls.mjs';

const target = process.argv[2];
if (target === undefined) {
  process.stderr.write('usage: node docker/launch.mjs <module> [args...]\n');
  process.exit(2);
}
try {
  Object.assign(process.env, databaseUrls(process.env));
} catch (err) {
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}
// The module sees the argv it would see when started as `node <module> [args...]`.
process.argv.splice(1, 2, path.resolve(target));
await import(pathToFileURL(path.resolve(target)).href);
