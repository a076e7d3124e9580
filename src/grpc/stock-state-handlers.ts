import type { InventoryServiceServer } from '../gen/inventory/v1/inventory_service.js';
import type { StockMoveService } from '../inventory/stock-moves.js';
import { unary, type EdgeDeps } from './call.js';
import { optionalInt, toStockLevelMessage } from './mappers.js';
import { toStateName } from './stock-state-mappers.js';

export interface StockStateUseCases {
  readonly stockMoves: StockMoveService;
}

/** MoveStock: decode, delegate, encode. */
export function stockStateHandlers(deps: EdgeDeps, uc: StockStateUseCases): Pick<InventoryServiceServer, 'moveStock'> {
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
  };
}
