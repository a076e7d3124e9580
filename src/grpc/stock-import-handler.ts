import type { handleClientStreamingCall } from '@grpc/grpc-js';
import type { ImportStockCountsRequest, ImportStockCountsResponse } from '../gen/inventory/v1/stock_import.js';
import { StockCountRejectionReason } from '../gen/inventory/v1/stock_import.js';
import type { RejectionReason } from '../inventory/stock-count-rows.js';
import type { ImportMessage, StockImportService } from '../inventory/stock-import.js';
import type { EdgeDeps } from './call.js';
import { clientStream } from './client-stream.js';

const REASONS: Record<RejectionReason, StockCountRejectionReason> = {
  INVALID_ROW: StockCountRejectionReason.STOCK_COUNT_REJECTION_REASON_INVALID_ROW,
  UNKNOWN_SKU: StockCountRejectionReason.STOCK_COUNT_REJECTION_REASON_UNKNOWN_SKU,
  UNKNOWN_WAREHOUSE: StockCountRejectionReason.STOCK_COUNT_REJECTION_REASON_UNKNOWN_WAREHOUSE,
  VERSION_CONFLICT: StockCountRejectionReason.STOCK_COUNT_REJECTION_REASON_VERSION_CONFLICT,
  BELOW_COMMITTED: StockCountRejectionReason.STOCK_COUNT_REJECTION_REASON_BELOW_COMMITTED,
  DUPLICATE: StockCountRejectionReason.STOCK_COUNT_REJECTION_REASON_DUPLICATE,
  CHANGED_ON_RERUN: StockCountRejectionReason.STOCK_COUNT_REJECTION_REASON_CHANGED_ON_RERUN,
  IMPORT_TOO_LARGE: StockCountRejectionReason.STOCK_COUNT_REJECTION_REASON_IMPORT_TOO_LARGE,
};

async function* toMessages(requests: AsyncIterable<ImportStockCountsRequest>): AsyncIterable<ImportMessage> {
  for await (const r of requests) {
    yield {
      importId: r.importId,
      reason: r.reason,
      counts: r.counts.map((c) => ({ sku: c.sku, warehouseCode: c.warehouseCode, countedOnHand: c.countedOnHand, expectedVersion: c.expectedVersion })),
    };
  }
}

/** inventory.v1.InventoryService/ImportStockCounts: the client stream in, one summary out. */
export function importStockCountsHandler(
  deps: EdgeDeps,
  imports: StockImportService,
): handleClientStreamingCall<ImportStockCountsRequest, ImportStockCountsResponse> {
  return clientStream(deps, 'ImportStockCounts', async (requests, s) => {
    const r = await imports.import(s.em, s.ctx, toMessages(requests));
    return {
      importId: r.importId,
      rows: BigInt(r.rows),
      applied: BigInt(r.applied),
      unchanged: BigInt(r.unchanged),
      rejected: BigInt(r.rejected),
      alreadyDecided: BigInt(r.alreadyDecided),
      rejections: r.rejections.map((x) => ({ row: BigInt(x.row), sku: x.sku, warehouseCode: x.warehouseCode, reason: REASONS[x.reason], message: x.message })),
      rejectionsTruncated: r.rejectionsTruncated,
    };
  });
}
