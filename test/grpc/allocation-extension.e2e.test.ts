import { status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { AllocationStatus, type Allocation } from '../../src/gen/inventory/v1/allocation.js';
import { failure, startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/dynamo.js';
import { drained, expectClean, verify } from '../support/replay.js';
import { freshDatabase, freshTableName } from '../support/stack.js';
import { brokenInvariants, seed, sql } from '../support/stock.js';

const S = AllocationStatus;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * ExtendAllocation against the expiry sweepers of two instances sharing one database: a
 * hold is either extended (and then never expires at its old time) or it expired first
 * (and the extension is refused); never both, never lost units.
 */
describe('ExtendAllocation with the expiry sweepers of two instances (e2e)', function () {
  this.timeout(120_000);
  let one: TestApp;
  let two: TestApp;
  before(async () => {
    const databaseUrl = await freshDatabase();
    const table = freshTableName();
    // Both sweep often, so sweeps and extensions overlap.
    one = await startTestApp({ EXPIRY_SWEEP_INTERVAL_MS: '20' }, { databaseUrl, table });
    two = await startTestApp({ EXPIRY_SWEEP_INTERVAL_MS: '20' }, { databaseUrl, table });
    await seed(one.client, { W: 1 }, ['X']);
    await one.client.receiveStock({ sku: 'X', warehouseCode: 'W', quantity: 10_000n });
  });
  after(async () => {
    await one?.stop();
    await two?.stop();
  });

  const via = (i: number) => (i % 2 === 0 ? one : two).client;
  const get = async (allocationId: string) => (await one.client.getAllocation({ allocationId })).allocation!;
  const xLevel = async () => (await one.client.getStockLevel({ sku: 'X', warehouseCode: 'W', consistent: true })).stockLevel!;
  const clean = async () => {
    expect(await brokenInvariants(one.databaseUrl)).to.deep.equal([]);
    await drained(one.app);
    await drained(two.app);
    expectClean(await verify(one.databaseUrl, one.table));
  };

  it('extensions racing the expiry: each hold is extended or expired, exactly once', async () => {
    const n = 40;
    const created: Allocation[] = [];
    for (let i = 0; i < n; i++) {
      created.push((await via(i).allocateStock({ allocationId: `race-${i}`, lines: [{ sku: 'X', quantity: BigInt(1 + (i % 3)) }], ttl: { seconds: 1n, nanos: 0 } })).allocation!);
    }
    // Each extension is sent within 60 ms of its allocation's expire_time, through either instance.
    const outcomes = await Promise.all(
      created.map(async (a, i) => {
        await sleep(Math.max(0, a.expireTime!.getTime() - Date.now() + ((i * 7) % 120) - 60));
        const request =
          i % 2 === 0
            ? { allocationId: a.allocationId, expiry: { $case: 'noExpiry' as const, value: true } }
            : { allocationId: a.allocationId, expiry: { $case: 'ttl' as const, value: { seconds: 3600n, nanos: 0 } }, expectedVersion: 1n };
        try {
          return { ok: true as const, allocation: (await via(i + 1).extendAllocation(request)).allocation! };
        } catch (err) {
          return { ok: false as const, error: err as ServiceError };
        }
      }),
    );
    // Past every old expire_time, with many sweeps of both instances in between.
    await sleep(1500);
    let extended = 0;
    for (const [i, o] of outcomes.entries()) {
      const now = await get(`race-${i}`);
      if (o.ok) {
        extended++;
        expect(o.allocation.version, `race-${i}`).to.equal(2n);
        expect(now, `race-${i} was extended, then expired anyway`).to.deep.equal(o.allocation);
        expect(now.expireTime === undefined).to.equal(i % 2 === 0);
      } else {
        expect(o.error.code, o.error.details).to.equal(status.FAILED_PRECONDITION);
        expect(o.error.details).to.equal(`allocation "race-${i}" is EXPIRED and holds nothing; its expire_time cannot change`);
        expect(now).to.deep.include({ status: S.ALLOCATION_STATUS_EXPIRED, version: 2n });
      }
    }
    const events = await sql<{ stream_id: string; n: string }>(one.databaseUrl, `select stream_id, count(*) as n from event_outbox where stream_id like 'allocation#race-%' group by stream_id`);
    expect(events.map((e) => Number(e.n))).to.deep.equal(events.map(() => 2));
    // Units held = the extended allocations' lines.
    const held = created.reduce((sum, a, i) => sum + (outcomes[i]!.ok ? a.lines[0]!.quantity : 0n), 0n);
    expect((await xLevel()).allocated).to.equal(held);
    console.log(`      (${extended} of ${n} extended, ${n - extended} expired first)`);
    await clean();
  });

  it('a hold shortened through one instance is expired by the other at its new time', async () => {
    // Instance one stops sweeping: only two can expire what one shortens.
    await one.app.expirySweeper.stop();
    const ids = Array.from({ length: 10 }, (_, i) => `short-${i}`);
    for (const id of ids) await one.client.allocateStock({ allocationId: id, lines: [{ sku: 'X', quantity: 5n }], ttl: { seconds: 3600n, nanos: 0 } });
    const allocatedBefore = (await xLevel()).allocated;
    const shortened = await Promise.all(ids.map((allocationId) => one.client.extendAllocation({ allocationId, expiry: { $case: 'ttl', value: { seconds: 1n, nanos: 0 } }, idempotencyKey: `shorten-${allocationId}` })));
    for (const s of shortened) expect(s.allocation!.expireTime!.getTime() - Date.now()).to.be.below(1100);
    await eventually(async () => {
      for (const id of ids) expect((await get(id)).status, id).to.equal(S.ALLOCATION_STATUS_EXPIRED);
    }, 15_000);
    for (const id of ids) {
      const a = await get(id);
      expect(a.version).to.equal(3n);
      expect(a.lines[0]).to.deep.include({ quantity: 5n, expiredQuantity: 5n, heldQuantity: 0n });
    }
    expect((await xLevel()).allocated).to.equal(allocatedBefore - 50n);
    // A retry of a shortening with its key gets the first answer, not a refusal.
    const again = await one.client.extendAllocation({ allocationId: 'short-0', expiry: { $case: 'ttl', value: { seconds: 1n, nanos: 0 } }, idempotencyKey: 'shorten-short-0' });
    expect(again.allocation).to.deep.equal(shortened[0]!.allocation);
    await clean();
  });

  it('two extensions with the same expected_version: one wins, the other is ABORTED', async () => {
    await one.client.allocateStock({ allocationId: 'cas', lines: [{ sku: 'X', quantity: 1n }] });
    const results = await Promise.allSettled(
      [one, two].map((t, i) => t.client.extendAllocation({ allocationId: 'cas', expiry: { $case: 'ttl', value: { seconds: BigInt(600 + i), nanos: 0 } }, expectedVersion: 1n })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as ServiceError] : []));
    expect(won).to.have.length(1);
    expect(lost.map((e) => e.code)).to.deep.equal([status.ABORTED]);
    expect(lost[0]!.details).to.equal('allocation "cas" is at version 2, not the expected 1');
    expect((await get('cas')).version).to.equal(2n);
    const stale = await failure(two.client.extendAllocation({ allocationId: 'cas', expiry: { $case: 'noExpiry', value: true }, expectedVersion: 1n }));
    expect(stale.code).to.equal(status.ABORTED);
    await clean();
  });
});
