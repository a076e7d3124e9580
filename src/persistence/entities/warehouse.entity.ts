import { Entity, EntityRepositoryType, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { WarehouseRepository } from '../repositories/warehouse.repository.js';

@Entity({ tableName: 'warehouse', repository: () => WarehouseRepository })
export class Warehouse {
  [EntityRepositoryType]?: WarehouseRepository;
  [OptionalProps]?: 'active' | 'version';

  @PrimaryKey({ type: 'string', length: 32 })
  code: string;

  @Property({ type: 'string', length: 200 })
  name: string;

  @Property({ type: 'string', length: 64 })
  region: string;

  @Property({ type: 'integer' })
  priority: number;

  @Property({ type: 'boolean', default: true })
  active: boolean = true;

  /** Equals the version of the `warehouse#CODE` event stream. */
  @Property({ type: 'integer', default: 1 })
  version: number = 1;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  createdAt: Date;

  @Property({ type: 'datetime', columnType: 'timestamptz' })
  updatedAt: Date;

  constructor(code: string, name: string, region: string, priority: number, now: Date) {
    this.code = code;
    this.name = name;
    this.region = region;
    this.priority = priority;
    this.createdAt = now;
    this.updatedAt = now;
  }
}
