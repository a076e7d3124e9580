import { expect } from 'chai';
import { DomainError } from '../../src/inventory/errors.js';
import { applyChange, emptyLevel } from '../../src/inventory/stock-level.js';
import { partitionsAround } from '../../src/persistence/partitions.js';

const now = new Date('2026-11-25T12:00:00Z');

describe('stock level rules (unit)', () => {
  it('applies a change, bumping the version and the update time', () => {
    const l = applyChange(applyChange(emptyLevel('S', 'W'), 10, 0, now), 0, 4, now);
    expect(l).to.deep.equal({ sku: 'S', warehouseCode: 'W', onHand: 10, allocated: 4, version: 2, updateTime: now });
  });

  const refused: Array<[string, number, number]> = [
    ['on_hand below zero', -11, 0],
    ['allocated above on_hand', 0, 11],
    ['allocated below zero', 0, -5],
    ['on_hand below allocated', -7, 0],
  ];
  for (const [what, dOnHand, dAllocated] of refused) {
    it(`refuses ${what} with FAILED_PRECONDITION`, () => {
      const level = { ...emptyLevel('S', 'W'), onHand: 10, allocated: 4, version: 3 };
      try {
        applyChange(level, dOnHand, dAllocated, now);
        expect.fail('should throw');
      } catch (err) {
        expect(err).to.be.instanceOf(DomainError);
        expect((err as DomainError).code).to.equal('FAILED_PRECONDITION');
      }
    });
  }
});

describe('ledger partitions (unit)', () => {
  it('covers the previous month through N months ahead, in UTC, across a year end', () => {
    const parts = partitionsAround(new Date('2026-12-31T23:59:59Z'), 2);
    expect(parts.map((p) => p.name)).to.deep.equal(['stock_movement_p202611', 'stock_movement_p202612', 'stock_movement_p202701', 'stock_movement_p202702']);
    expect(parts[2]!.from.toISOString()).to.equal('2027-01-01T00:00:00.000Z');
    expect(parts[2]!.to.toISOString()).to.equal('2027-02-01T00:00:00.000Z');
  });
});
