import { expect } from 'chai';
import { Linger } from '../../src/events/linger.js';

describe('Linger: after-commit runs spaced while work keeps coming (unit)', () => {
  it('runs at once after a quiet spell, and waits out the rest of the interval right after a run', () => {
    let now = 1000;
    const linger = new Linger(10, () => now);
    expect(linger.delay(), 'never ran').to.equal(0);
    linger.started();
    now += 3;
    expect(linger.delay()).to.equal(7);
    now += 7;
    expect(linger.delay()).to.equal(0);
    now += 500;
    expect(linger.delay(), 'a lone commit after a quiet spell').to.equal(0);
    linger.started();
    now += 12;
    expect(linger.delay(), 'the previous run is older than the interval').to.equal(0);
  });

  it('0 turns it off', () => {
    let now = 0;
    const linger = new Linger(0, () => now);
    linger.started();
    now += 0.1;
    expect(linger.delay()).to.equal(0);
  });
});
