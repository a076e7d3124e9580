import { expect } from 'chai';
import { Batcher } from '../../src/inventory/batcher.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('batcher (unit)', () => {
  it('runs a lone command at once and groups the commands that arrive meanwhile', async () => {
    const batches: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new Batcher<string, string>(
      async (batch) => {
        batches.push([...batch]);
        if (batches.length === 1) await gate;
        return batch.map((c) => c.toUpperCase());
      },
      { maxBatch: 3, concurrency: 1, keyOf: (c) => c },
    );
    const first = b.submit('a');
    await tick();
    const rest = ['b', 'c', 'd', 'e'].map((c) => b.submit(c));
    expect(b.queued).to.equal(4);
    release();
    expect(await Promise.all([first, ...rest])).to.deep.equal(['A', 'B', 'C', 'D', 'E']);
    expect(batches).to.deep.equal([['a'], ['b', 'c', 'd'], ['e']]);
  });

  it('never puts two commands with one key in the same batch', async () => {
    const batches: string[][] = [];
    const b = new Batcher<string, number>(async (batch) => (batches.push([...batch]), batch.map(() => batches.length)), {
      maxBatch: 10,
      concurrency: 1,
      keyOf: (c) => c,
    });
    await Promise.all(['x', 'x', 'y', 'x'].map((c) => b.submit(c)));
    for (const batch of batches) expect(new Set(batch).size).to.equal(batch.length);
  });

  it('runs the commands of a failed batch one by one so a bad one fails alone', async () => {
    const b = new Batcher<number, number>(
      async (batch) => {
        if (batch.includes(13)) throw new Error('thirteen');
        return batch.map((n) => n * 2);
      },
      { maxBatch: 10, concurrency: 1, keyOf: String },
    );
    const blocker = b.submit(0);
    const results = await Promise.allSettled([1, 13, 2].map((n) => b.submit(n)));
    await blocker;
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).to.deep.equal([2, 'thirteen', 4]);
  });

  it('keeps at most `concurrency` batches in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const b = new Batcher<number, number>(
      async (batch) => {
        most = Math.max(most, ++inFlight);
        await tick();
        inFlight--;
        return [...batch];
      },
      { maxBatch: 2, concurrency: 3, keyOf: String },
    );
    await Promise.all(Array.from({ length: 40 }, (_, i) => b.submit(i)));
    expect(most).to.equal(3);
  });
});
