import { Entity, EntityRepositoryType, Index, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { ItemRepository } from '../repositories/item.repository.js';

@Entity({ tableName: 'item', repository: () => ItemRepository })
// Serves ListItems' sku-prefix LIKE under any database collation.
@Index({ name: 'item_sku_pattern_idx', expression: 'create index "item_sku_pattern_idx" on "item" ("sku" varchar_pattern_ops)' })
export class Item {
  [EntityRepositoryType]?: ItemRepository;
  [OptionalProps]?: 'version' | 'description';

  @PrimaryKey({ type: 'string', length: 64 })
  sku: string;

  @Property({ type: 'string', length: 200 })
  name: string;

  @Property({ type: 'text', default: '' })
  description: string = '';

  /** Equals the version of the `item#SKU` event stream. */
  @Property({ type: 'integer', default: 1 })
  version: number = 1;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  updatedAt: Date;

  constructor(sku: string, name: string, description: string, now: Date) {
    this.sku = sku;
    this.name = name;
    this.description = description;
    this.createdAt = now;
    this.updatedAt = now;
  }
}
