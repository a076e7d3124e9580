import { expect } from 'chai';
import { placeAllocation, type Candidate, type RequestedLine } from '../../src/inventory/allocation-strategy.js';

/** sku -> warehouse -> [priority, available, active?] */
type Stock = Record<string, Record<string, [number, number, boolean?]>>;

function place(lines: Array<[string, number, string?]>, stock: Stock) {
  const requested: RequestedLine[] = lines.map(([sku, quantity, warehouseCode]) => ({ sku, quantity, warehouseCode }));
  const candidatesOf = (sku: string): Candidate[] =>
    Object.entries(stock[sku] ?? {}).map(([warehouseCode, [priority, available, active]]) => ({ warehouseCode, priority, available, active: active ?? true }));
  const result = placeAllocation(requested, candidatesOf);
  return result.ok ? result.lines.map((l) => `${l.sku}@${l.warehouseCode}x${l.quantity}`) : result;
}

describe('allocation strategy (unit)', () => {
  it('takes a line naming a warehouse from that warehouse only', () => {
    expect(place([['A', 3, 'W2']], { A: { W1: [1, 10], W2: [2, 3] } })).to.deep.equal(['A@W2x3']);
    expect(place([['A', 4, 'W2']], { A: { W1: [1, 10], W2: [2, 3] } })).to.deep.include({ ok: false, reason: 'SHORT', requested: 4, available: 3, warehouseCode: 'W2' });
  });

  it('refuses an inactive named warehouse and never places into one', () => {
    expect(place([['A', 1, 'W1']], { A: { W1: [1, 10, false] } })).to.deep.include({ ok: false, reason: 'INACTIVE' });
    expect(place([['A', 5]], { A: { W1: [1, 10, false], W2: [2, 5] } })).to.deep.equal(['A@W2x5']);
    expect(place([['A', 6]], { A: { W1: [1, 10, false], W2: [2, 5] } })).to.deep.include({ ok: false, reason: 'SHORT', available: 5 });
  });

  it('prefers one warehouse that fills every floating line, even if it is not the best for each', () => {
    const stock: Stock = { A: { W1: [1, 10], W2: [5, 10] }, B: { W2: [5, 10], W3: [2, 10] } };
    expect(place([['A', 2], ['B', 2]], stock)).to.deep.equal(['A@W2x2', 'B@W2x2']);
  });

  it('among warehouses that fill everything, picks by priority then code', () => {
    const stock: Stock = { A: { W1: [3, 10], W2: [1, 10], W0: [1, 10] } };
    expect(place([['A', 2]], stock)).to.deep.equal(['A@W0x2']);
  });

  it('otherwise places each line in the best warehouse that fills it whole', () => {
    const stock: Stock = { A: { W1: [1, 1], W2: [2, 10] }, B: { W1: [1, 10] } };
    expect(place([['A', 5], ['B', 5]], stock)).to.deep.equal(['A@W2x5', 'B@W1x5']);
  });

  it('splits a line no single warehouse can fill, by priority', () => {
    const stock: Stock = { A: { W1: [1, 3], W2: [3, 4], W3: [2, 4] } };
    expect(place([['A', 9]], stock)).to.deep.equal(['A@W1x3', 'A@W2x2', 'A@W3x4']);
  });

  it('names the sku, the requested and the available quantity when short', () => {
    expect(place([['A', 1], ['B', 8]], { A: { W1: [1, 5] }, B: { W1: [1, 3], W2: [2, 4] } })).to.deep.equal({
      ok: false,
      reason: 'SHORT',
      lineIndex: 1,
      sku: 'B',
      warehouseCode: undefined,
      requested: 8,
      available: 7,
    });
    expect(place([['C', 1]], {})).to.deep.include({ ok: false, reason: 'SHORT', sku: 'C', available: 0 });
  });

  it('does not give units taken by a named line to a floating line, and merges parts landing in one level', () => {
    const stock: Stock = { A: { W1: [1, 5], W2: [2, 5] } };
    expect(place([['A', 4, 'W1'], ['A', 3]], stock)).to.deep.equal(['A@W1x4', 'A@W2x3']);
    expect(place([['A', 4, 'W1'], ['A', 6]], stock)).to.deep.equal(['A@W1x5', 'A@W2x5']);
    expect(place([['A', 4, 'W1'], ['A', 7]], stock)).to.deep.include({ ok: false, reason: 'SHORT', available: 6 });
  });
});
