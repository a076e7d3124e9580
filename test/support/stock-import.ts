import { Metadata, type ServiceError } from '@grpc/grpc-js';
import type { InventoryServiceClient } from '../../src/gen/inventory/v1/inventory_service.js';
import type { ImportStockCountsResponse, StockCount } from '../../src/gen/inventory/v1/stock_import.js';

export interface ImportOptions {
  readonly reason?: string;
  /** Rows per message. */
  readonly perMessage?: number;
  /** Cancel the call once this many rows are written (a client that dies half-way). */
  readonly cancelAfter?: number;
  readonly metadata?: Metadata;
}

/**
 * Streams rows to ImportStockCounts as a real client would: waits for 'drain' when the
 * transport pushes back. Resolves with the summary, or rejects with the call's error.
 */
export function importCounts(
  raw: InventoryServiceClient,
  importId: string,
  rows: Iterable<StockCount>,
  options: ImportOptions = {},
): Promise<ImportStockCountsResponse> {
  const perMessage = options.perMessage ?? 250;
  return new Promise((resolve, reject) => {
    const call = raw.importStockCounts(options.metadata ?? new Metadata(), (err: ServiceError | null, res?: ImportStockCountsResponse) =>
      err ? reject(err) : resolve(res!),
    );
    void (async () => {
      let first = true;
      let counts: StockCount[] = [];
      let written = 0;
      const send = async () => {
        const message = { importId: first ? importId : '', reason: first ? (options.reason ?? '') : '', counts };
        first = false;
        counts = [];
        if (!call.write(message)) await new Promise<void>((r) => call.once('drain', () => r()));
      };
      for (const row of rows) {
        counts.push(row);
        written++;
        if (counts.length >= perMessage) await send();
        if (options.cancelAfter !== undefined && written >= options.cancelAfter) {
          if (counts.length > 0) await send();
          // Let the server take what was sent before the connection drops the rest.
          await new Promise((r) => setTimeout(r, 500));
          call.cancel();
          return;
        }
      }
      if (counts.length > 0 || first) await send();
      call.end();
    })().catch(reject);
  });
}

export const count = (sku: string, warehouseCode: string, countedOnHand: number, expectedVersion?: number): StockCount => ({
  sku,
  warehouseCode,
  countedOnHand: BigInt(countedOnHand),
  expectedVersion: expectedVersion === undefined ? undefined : BigInt(expectedVersion),
});
