import fc from 'fast-check';
import { loadConfig } from '../../src/config.js';
import { runningEmbeddedPostgres } from '../../src/embedded/index.js';
import { Fuzzer } from './fuzzer.js';
import { generatedCall, MALFORMED, randomBytes, RPCS } from './requests.js';
import { seedFuzzData } from './seed-data.js';

/**
 * `make fuzz SEED=.. COUNT=..`: the fuzz of the suite against a running service, by hand.
 * The service is at FUZZ_ADDRESS (default 127.0.0.1:$GRPC_PORT); state checks use
 * DATABASE_URL, or the embedded PostgreSQL of a `make run` in the same DATA_DIR.
 * Prints the outcome counts and every problem; exits 1 if there is one.
 */
async function main(): Promise<number> {
  const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
  const address = process.env.FUZZ_ADDRESS ?? `127.0.0.1:${config.grpc.port}`;
  const given = (name: string) => (process.env[name] === undefined || process.env[name] === '' ? undefined : Number(process.env[name]));
  const seed = given('SEED') ?? Date.now() % 2 ** 31;
  const count = given('COUNT') ?? 10_000;
  const databaseUrl = config.database.url ?? (await runningEmbeddedPostgres(config))?.address;
  await seedFuzzData(address);
  const fuzzer = new Fuzzer(address, databaseUrl);
  await fuzzer.open();
  const started = Date.now();
  try {
    for (const rpc of RPCS) for (const bytes of Object.values(MALFORMED)) await fuzzer.call(rpc, Uint8Array.from(bytes), 10_000, true);
    const raw = fc.sample(fc.tuple(fc.constantFrom(...RPCS), randomBytes), { numRuns: 500, seed });
    for (const [rpc, bytes] of raw) await fuzzer.call(rpc, bytes, 10_000, true);
    const calls = fc.sample(generatedCall, { numRuns: count, seed });
    for (const c of calls) await fuzzer.call(c.rpc, c.bytes, c.deadlineMs, false);
  } finally {
    await fuzzer.close();
  }
  const print = (line: string) => process.stdout.write(`${line}\n`);
  print(`fuzz: seed ${seed}, ${count} generated calls + ${RPCS.length * Object.keys(MALFORMED).length + 500} raw calls = ${fuzzer.calls} calls to ${address} in ${((Date.now() - started) / 1000).toFixed(1)} s; state checks ${databaseUrl === undefined ? 'off (no database)' : 'on'}`);
  for (const [code, n] of [...fuzzer.counts].sort()) print(`  ${code}: ${n}`);
  print(`problems: ${fuzzer.problems.length}`);
  for (const p of fuzzer.problems.slice(0, 50)) print(`  ${p}`);
  return fuzzer.problems.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
