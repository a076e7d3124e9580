import { expect } from 'chai';
import fc from 'fast-check';
import { startTestApp, type TestApp } from '../support/app.js';
import { Fuzzer } from './fuzzer.js';
import { generatedCall, MALFORMED, randomBytes, RPCS } from './requests.js';
import { seedFuzzData } from './seed-data.js';

// FUZZ_SEED / FUZZ_COUNT reproduce or lengthen a run; `make fuzz` runs against a live service.
const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const numRuns = Number(process.env.FUZZ_COUNT ?? 400);

describe('fuzzed requests for every RPC against the real server (e2e, fast-check)', function () {
  this.timeout(180_000);
  let t: TestApp;
  let fuzzer: Fuzzer;

  before(async () => {
    // No background expiry: a state change between two reads must come from the call.
    t = await startTestApp({ EXPIRY_SWEEP_INTERVAL_MS: '600000' });
    await seedFuzzData(t.address);
    fuzzer = new Fuzzer(t.address, t.databaseUrl);
    await fuzzer.open();
  });
  after(async () => {
    await fuzzer.close();
    await t.stop();
  });

  it('raw malformed bytes to every RPC: INVALID_ARGUMENT (or a normal answer), never INTERNAL', async () => {
    for (const rpc of RPCS) {
      for (const [name, bytes] of Object.entries(MALFORMED)) {
        const problem = await fuzzer.call(rpc, Uint8Array.from(bytes), 10_000, true);
        expect(problem, name).to.equal(undefined);
      }
    }
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...RPCS), randomBytes, async (rpc, bytes) => (await fuzzer.call(rpc, bytes, 10_000, true)) === undefined),
      { numRuns: 100, ...(seed === undefined ? {} : { seed }) },
    );
  });

  it('generated requests: never INTERNAL/UNKNOWN, every INVALID_ARGUMENT names a field, rejected writes change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(generatedCall, async (c) => (await fuzzer.call(c.rpc, c.bytes, c.deadlineMs, false)) === undefined),
      { numRuns, ...(seed === undefined ? {} : { seed }) },
    );
    const covered = new Set(RPCS.map((r) => r.name));
    expect(covered.size).to.equal(RPCS.length);
    expect(fuzzer.problems).to.deep.equal([]);
  });
});
