import { expect } from 'chai';
import { canonicalJson } from '../../src/events/audit/checks.js';
import { diffLine } from '../../src/events/audit/findings.js';

describe('integrity audit checks (unit)', () => {
  it('compares JSON regardless of key order (jsonb reorders keys), but not regardless of values or array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).to.equal(canonicalJson({ a: { c: null, d: [2, 1] }, b: 1 }));
    expect(canonicalJson({ a: 1 })).to.not.equal(canonicalJson({ a: 2 }));
    expect(canonicalJson({ a: [1, 2] })).to.not.equal(canonicalJson({ a: [2, 1] }));
    expect(canonicalJson({ a: 1 })).to.not.equal(canonicalJson({ a: 1, b: 2 }));
  });

  it("writes a finding in verify's DIFF format", () => {
    expect(diffLine({ kind: 'state_mismatch', streamId: 'stock#S#W', detail: 'onHand: event store 1, PostgreSQL 2' })).to.equal(
      'DIFF stock#S#W: onHand: event store 1, PostgreSQL 2',
    );
  });
});
