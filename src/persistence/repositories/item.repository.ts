import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import type { Item } from '../entities/item.entity.js';

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export class ItemRepository extends EntityRepository<Item> {
  /**
   * One page in sku order after `afterSku` (keyset pagination), only skus starting with
   * `prefix`. The sku column uses the "C" collation (see the migration), so the primary
   * key index serves both the prefix match and the order.
   */
  page(prefix: string, afterSku: string | undefined, limit: number): Promise<Item[]> {
    const sku: Record<string, string> = {};
    if (prefix !== '') sku.$like = `${escapeLike(prefix)}%`;
    if (afterSku !== undefined) sku.$gt = afterSku;
    const where = (Object.keys(sku).length === 0 ? {} : { sku }) as FilterQuery<Item>;
    return this.find(where, { orderBy: { sku: 'asc' }, limit });
  }
}
