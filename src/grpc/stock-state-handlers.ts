import type { InventoryServiceServer } from '../gen/inventory/v1/inventory_service.js';
import type { IncomingService } from '../inventory/incoming.js';
import type { StockMoveService } from '../inventory/stock-moves.js';
import { unary, type EdgeDeps } from './call.js';
import { optionalInt, toStockLevelMessage } from './mappers.js';
import { toIncomingMessage, toStateName } from './stock-state-mappers.js';

export interface StockStateUseCases {
  readonly stockMoves: StockMoveService;
  readonly incoming: IncomingService;
}

type Handlers = Pick<InventoryServiceServer, 'moveStock' | 'recordIncomingStock' | 'listIncomingStock' | 'receiveIncomingStock' | 'cancelIncomingStock'>;

/** MoveStock and incoming stock: decode, delegate, encode. */
export function stockStateHandlers(deps: EdgeDeps, uc: StockStateUseCases): Handlers {
  return {
    moveStock: unary(deps, 'MoveStock', async (req, s) => ({
      stockLevel: toStockLevelMessage(
        await uc.stockMoves.move(s.em, s.ctx, {
          ...req,
          fromState: toStateName(req.fromState),
          toState: toStateName(req.toState),
          expectedVersion: optionalInt(req.expectedVersion),
        }),
      ),
    })),
    recordIncomingStock: unary(deps, 'RecordIncomingStock', async (req, s) => ({
      incomingStock: toIncomingMessage(await uc.incoming.record(s.em, s.ctx, req)),
    })),
    listIncomingStock: unary(deps, 'ListIncomingStock', async (req, s) => {
      const page = await uc.incoming.list(s.em, req);
      return { incomingStock: page.incoming.map(toIncomingMessage), nextPageToken: page.nextPageToken };
    }),
    receiveIncomingStock: unary(deps, 'ReceiveIncomingStock', async (req, s) => {
      const r = await uc.incoming.receive(s.em, s.ctx, req);
      return { incomingStock: toIncomingMessage(r.incoming), stockLevel: toStockLevelMessage(r.level) };
    }),
    cancelIncomingStock: unary(deps, 'CancelIncomingStock', async (req, s) => ({
      incomingStock: toIncomingMessage(await uc.incoming.cancel(s.em, s.ctx, req.incomingId, req.reason)),
    })),
  };
}
