import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { streamIds } from '../events/types.js';
import { Item } from '../persistence/entities/item.entity.js';
import type { CallContext, UnitOfWork } from '../persistence/unit-of-work.js';
import { alreadyExists, invalid, notFound } from './errors.js';
import type { PageTokens } from './paging.js';
import * as v from './validation.js';

export interface CreateItemInput {
  sku: string;
  name: string;
  description: string;
}

export class ItemService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly tokens: PageTokens,
  ) {}

  async create(em: EntityManager, ctx: CallContext, input: CreateItemInput): Promise<Item> {
    const sku = v.sku('sku', input.sku);
    const name = v.text('name', input.name, 1, 200);
    const description = v.text('description', input.description, 0, 2000, 'multiline');
    try {
      return await this.uow.run(em, ctx, async (tx) => {
        if ((await tx.em.findOne(Item, { sku })) !== null) throw alreadyExists('item', sku);
        const item = new Item(sku, name, description, tx.now);
        tx.em.persist(item);
        tx.record(streamIds.item(sku), 1, { type: 'ItemCreated', data: { sku, name, description } });
        return item;
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw alreadyExists('item', sku);
      throw err;
    }
  }

  async get(em: EntityManager, sku: string): Promise<Item> {
    v.sku('sku', sku);
    const item = await em.getRepository(Item).findOne({ sku });
    if (item === null) throw notFound('item', sku);
    return item;
  }

  async list(
    em: EntityManager,
    pageSize: number,
    pageToken: string,
    skuPrefix: string,
  ): Promise<{ items: Item[]; nextPageToken: string }> {
    const size = v.pageSize(pageSize);
    if (skuPrefix !== '' && !/^[A-Za-z0-9._-]{1,64}$/.test(skuPrefix)) {
      throw invalid('sku_prefix', "must be up to 64 characters of A-Z, a-z, 0-9, '.', '_' or '-'");
    }
    const query = { skuPrefix };
    const cursor = this.tokens.decode('ListItems', query, pageToken, (t): t is { after: string } => typeof t.after === 'string' && v.SKU.test(t.after));
    const rows = await em.getRepository(Item).page(skuPrefix, cursor?.after, size + 1);
    const { rows: items, nextPageToken } = this.tokens.page('ListItems', query, rows, size, (i) => ({ after: i.sku }));
    return { items, nextPageToken };
  }
}
