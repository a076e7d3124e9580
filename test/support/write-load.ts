import { status, type ServiceError } from '@grpc/grpc-js';
import type { InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import type { PromiseClient } from './app.js';

/** Answers a mixed load may get by design (not enough stock, a racing version, a released allocation). */
const EXPECTED = new Set([status.FAILED_PRECONDITION, status.ABORTED, status.NOT_FOUND]);

export interface WriteLoad {
  /** Ends the load; resolves with the number of calls that succeeded. */
  stop(): Promise<number>;
}

/**
 * A mixed write load (receipts, adjustments, transfers, allocations and their release or
 * fulfilment) over the given levels, from `workers` concurrent loops per client, until
 * stopped. Any answer other than success or an expected refusal fails the load.
 */
export function startWriteLoad(clients: readonly PromiseClient<InventoryServiceServer>[], skus: readonly string[], warehouses: readonly string[], workers = 3, tag = 'load'): WriteLoad {
  let running = true;
  let ok = 0;
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  let n = 0;
  const one = async (c: PromiseClient<InventoryServiceServer>) => {
    const sku = pick(skus);
    const wh = pick(warehouses);
    switch (rnd(5)) {
      case 0:
      case 1:
        await c.receiveStock({ sku, warehouseCode: wh, quantity: BigInt(1 + rnd(5)), reference: tag });
        break;
      case 2:
        await c.adjustStock({ sku, warehouseCode: wh, change: { $case: 'delta', value: BigInt(rnd(3) - 1 || 1) }, reason: 'count' });
        break;
      case 3: {
        const to = pick(warehouses);
        if (to !== wh) await c.transferStock({ sku, fromWarehouseCode: wh, toWarehouseCode: to, quantity: 1n, reference: tag });
        break;
      }
      default: {
        const id = `${tag}-${process.pid}-${++n}`;
        await c.allocateStock({ allocationId: id, lines: [{ sku, quantity: 1n }] });
        if (rnd(2) === 0) await c.releaseAllocation({ allocationId: id });
        else await c.fulfillAllocation({ allocationId: id });
      }
    }
    ok++;
  };
  const loops = clients.flatMap((c) =>
    Array.from({ length: workers }, async () => {
      while (running) {
        try {
          await one(c);
        } catch (err) {
          if (!EXPECTED.has((err as ServiceError).code)) {
            running = false;
            throw err;
          }
        }
      }
    }),
  );
  const done = Promise.all(loops);
  return {
    stop: async () => {
      running = false;
      await done;
      return ok;
    },
  };
}
