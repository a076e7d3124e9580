import { expect } from 'chai';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, pageSize } from '../../src/inventory/validation.js';

describe('page_size (unit)', () => {
  it('0 means the default, above the maximum is coerced to the maximum (AIP-158)', () => {
    expect(pageSize(0)).to.equal(DEFAULT_PAGE_SIZE);
    expect(pageSize(7)).to.equal(7);
    expect(pageSize(MAX_PAGE_SIZE)).to.equal(MAX_PAGE_SIZE);
    expect(pageSize(MAX_PAGE_SIZE + 1)).to.equal(MAX_PAGE_SIZE);
    expect(pageSize(2_147_483_647)).to.equal(MAX_PAGE_SIZE);
  });

  it('a negative size is INVALID_ARGUMENT naming page_size', () => {
    expect(() => pageSize(-1)).to.throw(/page_size/);
  });
});
