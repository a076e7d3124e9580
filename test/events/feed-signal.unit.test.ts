import { expect } from 'chai';
import { FeedSignal } from '../../src/events/feed/signal.js';

/** Records every wake-up of a waiter beyond the signal's position at the time. */
function watch(signal: FeedSignal): { wakes: number[]; stop(): void } {
  const wakes: number[] = [];
  const abort = new AbortController();
  void (async () => {
    while (!abort.signal.aborted) {
      const from = signal.lastKnown;
      if (await signal.waitBeyond(from, 60_000, abort.signal)) wakes.push(signal.lastKnown);
    }
  })();
  return { wakes, stop: () => abort.abort() };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('FeedSignal: the local sequencer and its own NOTIFY (unit)', () => {
  it('holds back a notification that arrives while a pass is in flight, and drops it when the pass covers it', async () => {
    const signal = new FeedSignal();
    const w = watch(signal);
    signal.committingLocally(Number.POSITIVE_INFINITY);
    signal.notified(7); // our own NOTIFY, before the statement's answer
    await tick();
    expect(w.wakes).to.deep.equal([]);
    expect(signal.stats.heldBack).to.equal(1);
    signal.committingLocally(7); // the answer: positions up to 7 were ours
    await tick();
    expect(w.wakes).to.deep.equal([]);
    signal.advance(7); // the hand-over
    await tick();
    expect(w.wakes).to.deep.equal([7]);
    signal.committingLocally(0);
    await tick();
    expect(w.wakes, 'nothing left held back').to.deep.equal([7]);
    w.stop();
  });

  it("passes on another instance's newer position held back during a pass once the pass's range is known", async () => {
    const signal = new FeedSignal();
    signal.advance(10);
    const w = watch(signal);
    signal.committingLocally(Number.POSITIVE_INFINITY);
    signal.notified(12); // ours (11-12)
    signal.notified(15); // another instance committed 13-15 right after us
    await tick();
    expect(w.wakes).to.deep.equal([]);
    signal.committingLocally(12);
    await tick();
    expect(w.wakes).to.deep.equal([15]);
    w.stop();
  });

  it('passes on what was held back when the pass numbered nothing, was busy or failed', async () => {
    const signal = new FeedSignal();
    const w = watch(signal);
    signal.committingLocally(Number.POSITIVE_INFINITY);
    signal.notified(3);
    signal.notified(2);
    await tick();
    expect(w.wakes).to.deep.equal([]);
    signal.committingLocally(0);
    await tick();
    expect(w.wakes).to.deep.equal([3]);
    // Outside a pass nothing is held back.
    signal.notified(4);
    await tick();
    expect(w.wakes).to.deep.equal([3, 4]);
    expect(signal.stats.heldBack).to.equal(2);
    w.stop();
  });

  it('a position committed before the NOTIFY arrives (the range known first) is suppressed as before', async () => {
    const signal = new FeedSignal();
    const w = watch(signal);
    signal.committingLocally(Number.POSITIVE_INFINITY);
    signal.committingLocally(5);
    signal.notified(5); // arrives between the answer and the hand-over
    await tick();
    expect(w.wakes).to.deep.equal([]);
    signal.advance(5);
    signal.notified(5); // or after it
    await tick();
    expect(w.wakes).to.deep.equal([5]);
    w.stop();
  });
});
