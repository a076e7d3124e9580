import { expect } from 'chai';
import { afterPosition, Code, createInventoryClient, InventoryError, type InventoryClient } from '../../clients/src/index.js';
import { toServiceError } from '../../src/grpc/errors.js';
import { quantity } from '../../src/inventory/stock-validation.js';
import { quietLog } from '../support/stack.js';

async function rejection(call: Promise<unknown>): Promise<InventoryError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof InventoryError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

/**
 * Client-side validation: rejected before anything is sent (the address below has no
 * server; a request that got through would fail UNAVAILABLE instead), with the error the
 * server would send.
 */
describe('client-side request validation (unit)', () => {
  let inventory: InventoryClient;
  before(() => {
    inventory = createInventoryClient('127.0.0.1:1', { retry: false, deadlineMs: 2000 });
  });
  after(() => inventory.close());

  const cases: Array<[string, () => Promise<unknown>, string, RegExp]> = [
    ['a fraction', () => inventory.receiveStock({ sku: 'S', warehouseCode: 'W', quantity: 2.5 }), 'quantity', /^quantity: must be an integer; got 2\.5$/],
    ['a non-numeric string', () => inventory.receiveStock({ sku: 'S', warehouseCode: 'W', quantity: '1e3' as unknown as number }), 'quantity', /got string "1e3"/],
    ['a negative quantity', () => inventory.transferStock({ sku: 'S', quantity: -1 }), 'quantity', /^quantity: must be an integer from 1 to 1000000000; got -1$/],
    ['a nested line', () => inventory.allocateStock({ allocationId: 'a', lines: [{ sku: 'S', quantity: 1 }, { sku: 'S', quantity: 0 }] }), 'lines[1].quantity', /^lines\[1\]\.quantity:/],
    ['a oneof case', () => inventory.adjustStock({ change: { $case: 'delta', value: 0.5 } }), 'delta', /^delta:/],
    ['a duration', () => inventory.allocateStock({ allocationId: 'a', ttl: { seconds: 1.5, nanos: 0 } }), 'ttl.seconds', /^ttl\.seconds:/],
    ['an int32 out of range', () => inventory.listItems({ pageSize: 2 ** 31 }), 'page_size', /^page_size: must be an integer from -2147483648 to 2147483647/],
    ['an unsafe int64', () => inventory.listLowStock({ threshold: 2 ** 53 }), 'threshold', /^threshold:/],
  ];
  for (const [what, call, field, message] of cases) {
    it(`rejects ${what} with INVALID_ARGUMENT naming ${field}, sending nothing`, async () => {
      const err = await rejection(call());
      if (err.code === Code.UNAVAILABLE) return expect.fail(`the request was sent: ${err.message}`);
      expect(err.code).to.equal(Code.INVALID_ARGUMENT);
      expect(err.field).to.equal(field);
      expect(err.reason).to.equal('INVALID_ARGUMENT');
      expect(err.fieldViolations).to.deep.equal([{ field, description: err.statusMessage }]);
      expect(err.statusMessage).to.match(message);
      expect(err.attempts).to.equal(0);
    });
  }

  it("words a bad quantity exactly as the server's error mapping does", () => {
    let server: string | undefined;
    try {
      quantity('quantity', -1);
    } catch (err) {
      server = toServiceError(err, quietLog).details;
    }
    return rejection(inventory.receiveStock({ sku: 'S', warehouseCode: 'W', quantity: -1 })).then((err) => expect(err.statusMessage).to.equal(server));
  });

  it('fails a stream loop, not the call site, for a bad start position', async () => {
    const stream = inventory.subscribeEvents({ start: afterPosition(-0.5) });
    const err = await rejection((async () => {
      for await (const _ of stream) break;
    })());
    expect(err.field).to.equal('after_position');
  });
});
