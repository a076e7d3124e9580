import { EntityRepository, LockMode } from '@mikro-orm/postgresql';
import type { Warehouse } from '../entities/warehouse.entity.js';

export class WarehouseRepository extends EntityRepository<Warehouse> {
  /** Reads and row-locks one warehouse for the rest of the transaction. */
  findForUpdate(code: string): Promise<Warehouse | null> {
    return this.findOne({ code }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  /** One page in code order, starting after `afterCode` (keyset pagination). */
  page(afterCode: string | undefined, limit: number): Promise<Warehouse[]> {
    return this.find(afterCode === undefined ? {} : { code: { $gt: afterCode } }, {
      orderBy: { code: 'asc' },
      limit,
    });
  }
}
