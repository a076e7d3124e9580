import { readFileSync } from 'node:fs';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import {
  apiServices,
  backoffMs,
  classifyMethod,
  Code,
  DEFAULT_RETRY,
  errorFromStatus,
  InventoryError,
  type MethodKind,
} from '../../clients/src/index.js';
import { fromServiceError } from '../../clients/src/errors.js';
import { mayRepeat } from '../../clients/src/methods.js';
import { toServiceError } from '../../src/grpc/errors.js';
import { DomainError, invalid } from '../../src/inventory/errors.js';
import { quietLog } from '../support/stack.js';

/** What the server's error mapping sends, as the client receives it. */
function received(err: DomainError): ServiceError {
  const e = toServiceError(err, quietLog);
  return Object.assign(new Error(e.details), { code: e.code, details: e.details, metadata: e.metadata ?? new Metadata() }) as ServiceError;
}

describe('client package (unit)', () => {
  describe('typed errors decode what the server encodes', () => {
    it('an insufficient-stock failure exposes the sku and the quantities', () => {
      const err = fromServiceError(
        received(new DomainError('FAILED_PRECONDITION', 'not enough stock of SKU-1 in BER-1: requested 5, available 2', { sku: 'SKU-1', warehouse_code: 'BER-1', requested: 5, available: 2 })),
        { method: '/inventory.v1.InventoryService/AllocateStock', attempts: 1 },
      );
      expect(err).to.be.instanceOf(InventoryError);
      expect(err.code).to.equal(Code.FAILED_PRECONDITION);
      expect(err.reason).to.equal('FAILED_PRECONDITION');
      expect(err.domain).to.equal('inventory.v1');
      expect(err.details).to.deep.equal({ sku: 'SKU-1', warehouse_code: 'BER-1', requested: '5', available: '2' });
      expect(err.insufficientStock).to.deep.equal({ sku: 'SKU-1', warehouseCode: 'BER-1', requested: 5, available: 2 });
      expect(err.message).to.equal('FAILED_PRECONDITION: not enough stock of SKU-1 in BER-1: requested 5, available 2');
    });

    it('a bad field exposes the field and the BadRequest violation', () => {
      const err = fromServiceError(received(invalid('lines[0].quantity', 'must be at least 1')), { method: 'm', attempts: 2 });
      expect(err.code).to.equal(Code.INVALID_ARGUMENT);
      expect(err.field).to.equal('lines[0].quantity');
      expect(err.fieldViolations).to.deep.equal([{ field: 'lines[0].quantity', description: 'lines[0].quantity: must be at least 1' }]);
      expect(err.attempts).to.equal(2);
      expect(err.insufficientStock).to.equal(undefined);
    });

    it('an idempotency mismatch keeps its own reason under the shared status code', () => {
      const err = fromServiceError(received(new DomainError('IDEMPOTENCY_MISMATCH', 'idempotency_key "k" was used with a different request', { idempotency_key: 'k' })), {
        method: 'm',
        attempts: 1,
      });
      expect(err.code).to.equal(Code.FAILED_PRECONDITION);
      expect(err.reason).to.equal('IDEMPOTENCY_MISMATCH');
      expect(err.insufficientStock).to.equal(undefined);
    });

    it('errors without details, malformed details and non-gRPC errors still become InventoryErrors', () => {
      const plain = fromServiceError(Object.assign(new Error('x'), { code: status.UNAVAILABLE, details: 'No connection established', metadata: new Metadata() }), {
        method: 'm',
        attempts: 3,
        idempotencyKey: 'k',
      });
      expect([plain.code, plain.statusMessage, plain.reason, plain.idempotencyKey]).to.deep.equal([Code.UNAVAILABLE, 'No connection established', undefined, 'k']);
      const md = new Metadata();
      md.set('grpc-status-details-bin', Buffer.from([0xff, 0xff, 0xff]));
      expect(fromServiceError(Object.assign(new Error('x'), { code: status.INTERNAL, details: 'boom', metadata: md }), { method: 'm', attempts: 1 }).code).to.equal(Code.INTERNAL);
      expect(fromServiceError(new TypeError('bad'), { method: 'm', attempts: 1 }).code).to.equal(Code.UNKNOWN);
    });

    it('errorFromStatus decodes an embedded google.rpc.Status (BatchGetStockLevels per-key errors)', () => {
      const err = errorFromStatus({ code: Code.NOT_FOUND, message: 'item "X" not found', details: [] });
      expect([err.code, err.statusMessage]).to.deep.equal([Code.NOT_FOUND, 'item "X" not found']);
    });
  });

  describe('retry classification derived from the generated definitions', () => {
    const kinds = Object.fromEntries(
      Object.values(apiServices).flatMap((service) => Object.values(service.methods).map((m) => [m.name, classifyMethod(service, m)] as [string, MethodKind])),
    );

    it('classifies every InventoryService method', () => {
      const expected: Record<string, MethodKind['kind']> = {
        CreateWarehouse: 'write',
        GetWarehouse: 'read',
        ListWarehouses: 'read',
        UpdateWarehouse: 'write',
        CreateItem: 'write',
        GetItem: 'read',
        ListItems: 'read',
        ReceiveStock: 'keyed-write',
        AdjustStock: 'keyed-write',
        TransferStock: 'keyed-write',
        GetStockLevel: 'read',
        BatchGetStockLevels: 'read',
        GetAvailability: 'read',
        AllocateStock: 'keyed-write',
        GetAllocation: 'read',
        ReleaseAllocation: 'idempotent',
        FulfillAllocation: 'idempotent',
        ListStockMovements: 'read',
        ListLowStock: 'read',
        MoveStock: 'keyed-write',
        RecordIncomingStock: 'keyed-write',
        ListIncomingStock: 'read',
        ReceiveIncomingStock: 'keyed-write',
        CancelIncomingStock: 'idempotent',
      };
      for (const [name, kind] of Object.entries(expected)) expect(kinds[name]?.kind, name).to.equal(kind);
      expect(kinds.AllocateStock).to.deep.equal({ kind: 'keyed-write', keyField: 'allocationId', autoKey: false });
      expect(kinds.ReceiveStock).to.deep.equal({ kind: 'keyed-write', keyField: 'idempotencyKey', autoKey: true });
      expect(kinds.RecordIncomingStock).to.deep.equal({ kind: 'keyed-write', keyField: 'incomingId', autoKey: false });
    });

    it('holds the rules for every method of every API service, including ones added later', () => {
      for (const service of Object.values(apiServices)) {
        for (const m of Object.values(service.methods)) {
          const kind = kinds[m.name]!;
          if (m.responseStream || /^(Get|List|BatchGet)[A-Z]/.test(m.name)) expect(kind.kind, m.name).to.equal('read');
          if ('idempotencyKey' in (m.requestType.fromPartial({}) as object)) expect(kind.kind, m.name).to.equal('keyed-write');
        }
      }
    });

    it('repeats a keyed write only when the key is set', () => {
      const keyed: MethodKind = { kind: 'keyed-write', keyField: 'idempotencyKey', autoKey: true };
      expect(mayRepeat(keyed, { idempotencyKey: '' })).to.equal(false);
      expect(mayRepeat(keyed, { idempotencyKey: 'k' })).to.equal(true);
      expect(mayRepeat({ kind: 'write' }, { idempotencyKey: 'k' })).to.equal(false);
      expect(mayRepeat({ kind: 'read' }, {})).to.equal(true);
    });
  });

  it('backs off with full jitter below an exponentially growing, capped bound', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(DEFAULT_RETRY, n, top))).to.deep.equal([99, 199, 399, 799, 1599, 1999]);
    expect(backoffMs(DEFAULT_RETRY, 3, () => 0)).to.equal(0);
  });

  it('pins the same @grpc/grpc-js and @bufbuild/protobuf versions as the service it is built and tested with', () => {
    const root = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    const client = JSON.parse(readFileSync('clients/package.json', 'utf8')) as { dependencies: Record<string, string> };
    for (const [name, version] of Object.entries(client.dependencies)) {
      expect(version, name).to.match(/^\d+\.\d+\.\d+$/);
      expect(version, name).to.equal(root.dependencies[name]);
    }
  });
});
