import { expect } from 'chai';
import { CountedLevels } from '../../src/inventory/stock-import-levels.js';

const level = (i: number): [string, string] => [`S1-${String(Math.floor(i / 100)).padStart(6, '0')}`, `W${String(i % 100).padStart(2, '0')}`];

describe('CountedLevels (unit)', () => {
  it('never forgets a level it was given (no false negatives), for a full import', () => {
    const c = new CountedLevels();
    for (let i = 0; i < 100_000; i++) c.add(...level(i));
    for (let i = 0; i < 100_000; i++) expect(c.mayHave(...level(i)), `level ${i}`).to.equal(true);
  });

  it('says "maybe" for about 1 in 10,000 levels it was not given, once full', () => {
    const c = new CountedLevels();
    for (let i = 0; i < 100_000; i++) c.add(...level(i));
    let maybe = 0;
    for (let i = 100_000; i < 600_000; i++) if (c.mayHave(...level(i))) maybe++;
    // Deterministic hashes: 44 of these 500,000 (expected about 50 at the design rate of 1e-4).
    expect(maybe).to.be.lessThan(150);
  });

  it('knows nothing at first, and tells levels apart by sku and by warehouse', () => {
    const c = new CountedLevels();
    expect(c.mayHave('A', 'W1')).to.equal(false);
    c.add('A', 'W1');
    expect(c.mayHave('A', 'W1')).to.equal(true);
    expect(c.mayHave('A', 'W2')).to.equal(false);
    expect(c.mayHave('B', 'W1')).to.equal(false);
  });
});
