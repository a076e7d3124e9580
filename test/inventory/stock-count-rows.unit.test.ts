import { expect } from 'chai';
import { checkRow, decideCount, isChecked, rowHash, type CheckedRow } from '../../src/inventory/stock-count-rows.js';
import { ImportSummary, MAX_LISTED_REJECTIONS } from '../../src/inventory/stock-import-summary.js';
import { emptyLevel } from '../../src/inventory/stock-level.js';

const row = { row: 1, sku: 'SKU-1', warehouseCode: 'W1', countedOnHand: 5n, expectedVersion: undefined };

describe('stock count rows (unit)', () => {
  it('checks each field and names the first bad one', () => {
    expect(isChecked(checkRow(row))).to.equal(true);
    expect(checkRow({ ...row, sku: 'a b' })).to.deep.include({ kind: 'REJECTED', reason: 'INVALID_ROW' });
    expect(checkRow({ ...row, countedOnHand: -1n })).to.have.property('message').that.matches(/^counted_on_hand: /);
    expect(checkRow({ ...row, expectedVersion: -2n })).to.have.property('message').that.matches(/^expected_version: /);
  });

  it('hashes the content, so a changed rerun row is told apart', () => {
    expect(rowHash(row)).to.equal(rowHash({ ...row }));
    expect(rowHash(row)).to.not.equal(rowHash({ ...row, countedOnHand: 6n }));
    expect(rowHash(row)).to.not.equal(rowHash({ ...row, expectedVersion: 0n }));
  });

  it('sets to the count: unchanged, a delta, or a version conflict', () => {
    const level = { ...emptyLevel('SKU-1', 'W1'), onHand: 5, version: 3 };
    const checked = checkRow(row) as CheckedRow;
    expect(decideCount(level, checked)).to.deep.equal({ kind: 'UNCHANGED' });
    expect(decideCount(level, { ...checked, counted: 2 })).to.deep.equal({ kind: 'delta', delta: -3 });
    expect(decideCount(level, { ...checked, expected: 2 })).to.deep.include({ kind: 'REJECTED', reason: 'VERSION_CONFLICT' });
  });

  it('the summary counts every row and lists at most the first rejections', () => {
    const s = new ImportSummary('i');
    for (let i = 1; i <= MAX_LISTED_REJECTIONS + 2; i++) {
      s.add({ row: i, sku: 'x'.repeat(500), warehouseCode: 'W', outcome: { kind: 'REJECTED', reason: 'UNKNOWN_SKU', message: 'm' }, earlier: i === 1 });
    }
    s.add({ row: 0, sku: 'a', warehouseCode: 'W', outcome: { kind: 'APPLIED' }, earlier: false });
    const r = s.result();
    expect(r).to.include({ rows: MAX_LISTED_REJECTIONS + 3, rejected: MAX_LISTED_REJECTIONS + 2, applied: 1, alreadyDecided: 1, rejectionsTruncated: true });
    expect(r.rejections.length).to.equal(MAX_LISTED_REJECTIONS);
    expect(r.rejections[0]!.sku.length).to.equal(100);
  });
});
