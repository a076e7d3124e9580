import { expect } from 'chai';
import { allHeld, heldOf, settle, statusAfter, unsettled, type HeldLine } from '../../src/inventory/allocation/holds.js';

const line = (sku: string, warehouseCode: string, quantity: number): HeldLine => unsettled({ sku, warehouseCode, quantity });
const ok = (r: ReturnType<typeof settle>) => {
  if (!r.ok) throw new Error(`not settled: ${JSON.stringify(r)}`);
  return r;
};

describe('allocation holds (unit)', () => {
  const lines = [line('A', 'W1', 5), line('B', 'W1', 2)];

  it('a partial fulfilment leaves the rest held: PARTIALLY_FULFILLED', () => {
    const r = ok(settle(lines, 'FULFIL', [{ sku: 'A', warehouseCode: 'W1', quantity: 2 }]));
    expect(r.status).to.equal('PARTIALLY_FULFILLED');
    expect(r.lines.map(heldOf)).to.deep.equal([3, 2]);
    expect(lines.map(heldOf), 'the input is not changed').to.deep.equal([5, 2]);
  });

  it('a partial release without any shipment stays ALLOCATED, and RELEASED once nothing is held', () => {
    const part = ok(settle(lines, 'RELEASE', [{ sku: 'A', warehouseCode: 'W1', quantity: 5 }]));
    expect(part.status).to.equal('ALLOCATED');
    const rest = ok(settle(part.lines, 'RELEASE', allHeld(part.lines)));
    expect(rest.status).to.equal('RELEASED');
    expect(rest.lines.map((l) => l.released)).to.deep.equal([5, 2]);
  });

  it('ends FULFILLED when anything shipped, however the rest went (released or expired)', () => {
    const shipped = ok(settle(lines, 'FULFIL', [{ sku: 'B', warehouseCode: 'W1', quantity: 1 }]));
    const expired = ok(settle(shipped.lines, 'EXPIRE', allHeld(shipped.lines)));
    expect(expired.status).to.equal('FULFILLED');
    expect(expired.lines.map((l) => [l.fulfilled, l.released, l.expired])).to.deep.equal([[0, 0, 5], [1, 0, 1]]);
    expect(statusAfter(ok(settle(lines, 'EXPIRE', allHeld(lines))).lines, 'EXPIRE')).to.equal('EXPIRED');
  });

  it('refuses units a line does not hold, or a line the allocation does not have', () => {
    expect(settle(lines, 'FULFIL', [{ sku: 'A', warehouseCode: 'W1', quantity: 6 }])).to.deep.equal({ ok: false, index: 0, held: 5 });
    expect(settle(lines, 'FULFIL', [{ sku: 'B', warehouseCode: 'W1', quantity: 1 }, { sku: 'A', warehouseCode: 'W2', quantity: 1 }])).to.deep.equal({ ok: false, index: 1, held: undefined });
    expect(settle(lines, 'RELEASE', [{ sku: 'A', warehouseCode: 'W1', quantity: 0 }])).to.deep.include({ ok: false });
  });

  it('allHeld lists only lines that still hold units', () => {
    const r = ok(settle(lines, 'FULFIL', [{ sku: 'B', warehouseCode: 'W1', quantity: 2 }]));
    expect(allHeld(r.lines)).to.deep.equal([{ sku: 'A', warehouseCode: 'W1', quantity: 5 }]);
  });
});
