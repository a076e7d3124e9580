import { expect } from 'chai';
import { DomainError } from '../../src/inventory/errors.js';
import { applyChange, available, emptyLevel, onHandRefusal } from '../../src/inventory/stock-level.js';
import { partitionsAround } from '../../src/persistence/partitions.js';

const now = new Date('2026-11-25T12:00:00Z');

describe('stock level rules (unit)', () => {
  it('applies a change, bumping the version and the update time', () => {
    const l = applyChange(applyChange(emptyLevel('S', 'W'), 10, 0, now), 0, 4, now);
    expect(l).to.deep.equal({ sku: 'S', warehouseCode: 'W', onHand: 10, allocated: 4, damaged: 0, qualityControl: 0, safetyStock: 0, version: 2, updateTime: now });
  });

  it('counts unavailable states out of available, and moves them without touching on_hand', () => {
    const l = applyChange({ ...emptyLevel('S', 'W'), onHand: 10, allocated: 2 }, 0, 0, now, { damaged: 3, safetyStock: 1 });
    expect(available(l)).to.equal(4);
    expect(applyChange(l, 0, 0, now, { damaged: -3, qualityControl: 3 })).to.include({ damaged: 0, qualityControl: 3, onHand: 10 });
  });

  it('names the parts in the way when on_hand would shrink below allocated + unavailable', () => {
    const level = { ...emptyLevel('S', 'W'), onHand: 10, allocated: 2, damaged: 3, safetyStock: 4 };
    expect(onHandRefusal(level, 9)).to.equal(undefined);
    const err = onHandRefusal(level, 8)!;
    expect(err.code).to.equal('FAILED_PRECONDITION');
    expect(err.message).to.equal('on_hand of sku "S" in warehouse "W" cannot drop to 8: 9 units must stay on hand (2 allocated, 3 damaged, 4 safety_stock)');
    expect(err.details.blocking).to.equal('allocated,damaged,safety_stock');
    expect(onHandRefusal(level, -1)!.message).to.match(/cannot drop below 0/);
    expect(() => applyChange(level, -2, 0, now)).to.throw(/cannot drop to 8/);
  });

  const refused: Array<[string, number, number, Record<string, number>?]> = [
    ['on_hand below zero', -11, 0],
    ['allocated above on_hand', 0, 11],
    ['allocated below zero', 0, -5],
    ['on_hand below allocated', -7, 0],
    ['allocation of unavailable units', 0, 6],
    ['a state below zero', 0, 0, { damaged: -2 }],
    ['a move into a state of more than is available', 0, 0, { qualityControl: 6 }],
    ['on_hand below allocated + unavailable', -6, 0],
  ];
  for (const [what, dOnHand, dAllocated, states] of refused) {
    it(`refuses ${what} with FAILED_PRECONDITION`, () => {
      const level = { ...emptyLevel('S', 'W'), onHand: 10, allocated: 4, damaged: 1, version: 3 };
      try {
        applyChange(level, dOnHand, dAllocated, now, states);
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
