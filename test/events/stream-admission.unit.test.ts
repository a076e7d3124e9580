import { expect } from 'chai';
import { StreamAdmission } from '../../src/events/stream-admission.js';
import { DomainError } from '../../src/inventory/errors.js';

const never = new AbortController().signal;
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('StreamEvents admission (unit)', () => {
  it('lets `activeCalls` stream, queues the next in arrival order and refuses beyond the queue at once', async () => {
    const a = new StreamAdmission({ activeCalls: 1, maxQueue: 1, maxWaitMs: 60_000 });
    const first = await a.enter(never, Number.POSITIVE_INFINITY);
    let secondIn = false;
    const second = a.enter(never, Number.POSITIVE_INFINITY).then((r) => ((secondIn = true), r));
    const refused = await failure(a.enter(never, Number.POSITIVE_INFINITY));
    expect(refused).to.be.instanceOf(DomainError);
    expect((refused as DomainError).code).to.equal('RESOURCE_EXHAUSTED');
    expect((refused as DomainError).message).to.contain('STREAM_READ_QUEUE');
    expect(a.load).to.deep.equal({ active: 1, waiting: 1 });
    await Promise.resolve();
    expect(secondIn).to.equal(false);
    first();
    (await second)();
    expect(a.load).to.deep.equal({ active: 0, waiting: 0 });
  });

  it('a call that waits longer than maxWaitMs is told to retry, and the place it waited for stays free for others', async () => {
    const a = new StreamAdmission({ activeCalls: 1, maxQueue: 10, maxWaitMs: 30 });
    const holder = await a.enter(never, Number.POSITIVE_INFINITY);
    const started = Date.now();
    const e = (await failure(a.enter(never, Number.POSITIVE_INFINITY))) as DomainError;
    expect(Date.now() - started).to.be.at.least(25);
    expect(e.code).to.equal('RESOURCE_EXHAUSTED');
    expect(e.message).to.match(/none of this instance's 1 streaming places came free within 30 ms; retry later/);
    expect(a.load.waiting).to.equal(0);
    holder();
    (await a.enter(never, Number.POSITIVE_INFINITY))();
  });

  it('waits at most half the time left before the deadline, so the refusal comes while the client still waits', async () => {
    const a = new StreamAdmission({ activeCalls: 1, maxQueue: 10, maxWaitMs: 60_000 });
    const holder = await a.enter(never, Number.POSITIVE_INFINITY);
    const now = Date.now();
    const e = (await failure(a.enter(never, now + 80, now))) as DomainError;
    expect(Date.now() - now).to.be.below(80);
    expect(e.code).to.equal('RESOURCE_EXHAUSTED');
    expect(e.message).to.contain('within 40 ms');
    // A deadline already past: refused at once (not left to hit DEADLINE_EXCEEDED).
    expect(((await failure(a.enter(never, now - 1, now))) as DomainError).code).to.equal('RESOURCE_EXHAUSTED');
    holder();
  });

  it('a call cancelled while it waits leaves with the abort, not RESOURCE_EXHAUSTED', async () => {
    const a = new StreamAdmission({ activeCalls: 1, maxQueue: 10, maxWaitMs: 60_000 });
    const holder = await a.enter(never, Number.POSITIVE_INFINITY);
    const abort = new AbortController();
    const waiting = failure(a.enter(abort.signal, Number.POSITIVE_INFINITY));
    abort.abort();
    const e = (await waiting) as Error;
    expect(e).to.not.be.instanceOf(DomainError);
    expect(e.name).to.equal('AbortError');
    expect(a.load.waiting).to.equal(0);
    holder();
  });
});
