import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import pg from 'pg';
import { STATUS_OF, toServiceError } from '../../src/grpc/errors.js';
import { DomainError, invalid } from '../../src/inventory/errors.js';
import { quietLog } from '../support/stack.js';

describe('error mapping (unit)', () => {
  it('maps every domain code through the one table, keeping the message', () => {
    for (const [code, grpcStatus] of Object.entries(STATUS_OF)) {
      const e = toServiceError(new DomainError(code as keyof typeof STATUS_OF, `some ${code}`), quietLog);
      expect(e.code, code).to.equal(grpcStatus);
      expect(e.details).to.equal(`some ${code}`);
      expect(e.metadata?.get('grpc-status-details-bin')).to.have.length(1);
    }
    expect(toServiceError(invalid('sku', 'is required'), quietLog).details).to.equal('sku: is required');
  });

  it('maps database failures by kind and hides everything else as INTERNAL', () => {
    const pgError = (code: string) => Object.assign(new pg.DatabaseError(`pg ${code}`, 0, 'error'), { code, severity: 'ERROR' });
    expect(toServiceError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), quietLog).code).to.equal(status.UNAVAILABLE);
    expect(toServiceError(pgError('57P01'), quietLog).code).to.equal(status.UNAVAILABLE);
    expect(toServiceError(pgError('57014'), quietLog).code).to.equal(status.DEADLINE_EXCEEDED);
    expect(toServiceError(pgError('40P01'), quietLog).code).to.equal(status.ABORTED);
    const internal = toServiceError(new Error('secret table name in here'), quietLog);
    expect(internal.code).to.equal(status.INTERNAL);
    expect(internal.details).to.not.contain('secret');
  });
});
