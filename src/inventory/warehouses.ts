import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { streamIds } from '../events/types.js';
import { Warehouse } from '../persistence/entities/warehouse.entity.js';
import type { CallContext, UnitOfWork } from '../persistence/unit-of-work.js';
import { alreadyExists, DomainError, invalid, notFound } from './errors.js';
import type { PageTokens } from './paging.js';
import * as v from './validation.js';

const isMatch = (value: unknown, pattern: RegExp): boolean => typeof value === 'string' && pattern.test(value);

export interface CreateWarehouseInput {
  code: string;
  name: string;
  region: string;
  priority: number;
  active?: boolean | undefined;
}

export interface UpdateWarehouseInput {
  code: string;
  name?: string | undefined;
  region?: string | undefined;
  priority?: number | undefined;
  active?: boolean | undefined;
  expectedVersion?: number | undefined;
}

export const MAX_PRIORITY = 1_000_000;
/**
 * The priority of a warehouse created without one (proto3 sends that as 0): in the middle,
 * so that omitting it never makes a warehouse the first choice of the allocation strategy.
 */
export const DEFAULT_PRIORITY = 1000;

export class WarehouseService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly tokens: PageTokens,
  ) {}

  async create(em: EntityManager, ctx: CallContext, input: CreateWarehouseInput): Promise<Warehouse> {
    const code = v.warehouseCode('code', input.code);
    const name = v.text('name', input.name, 1, 200);
    const region = v.text('region', input.region, 1, 64);
    const priority = input.priority === 0 ? DEFAULT_PRIORITY : v.intInRange('priority', input.priority, 1, MAX_PRIORITY);
    const active = input.active ?? true;
    try {
      return await this.uow.run(em, ctx, async (tx) => {
        if ((await tx.em.findOne(Warehouse, { code })) !== null) throw alreadyExists('warehouse', code);
        const warehouse = new Warehouse(code, name, region, priority, tx.now);
        warehouse.active = active;
        tx.em.persist(warehouse);
        tx.record(streamIds.warehouse(code), 1, {
          type: 'WarehouseCreated',
          data: { code, name, region, priority, active },
        });
        return warehouse;
      });
    } catch (err) {
      // Two concurrent creates: the loser trips the primary key.
      if (err instanceof UniqueConstraintViolationException) throw alreadyExists('warehouse', code);
      throw err;
    }
  }

  async get(em: EntityManager, code: string): Promise<Warehouse> {
    v.warehouseCode('code', code);
    const warehouse = await em.getRepository(Warehouse).findOne({ code });
    if (warehouse === null) throw notFound('warehouse', code);
    return warehouse;
  }

  async list(em: EntityManager, pageSize: number, pageToken: string): Promise<{ warehouses: Warehouse[]; nextPageToken: string }> {
    const size = v.pageSize(pageSize);
    const cursor = this.tokens.decode('ListWarehouses', null, pageToken, (t): t is { after: string } => isMatch(t.after, v.WAREHOUSE_CODE));
    const rows = await em.getRepository(Warehouse).page(cursor?.after, size + 1);
    const { rows: warehouses, nextPageToken } = this.tokens.page('ListWarehouses', null, rows, size, (w) => ({ after: w.code }));
    return { warehouses, nextPageToken };
  }

  async update(em: EntityManager, ctx: CallContext, input: UpdateWarehouseInput): Promise<Warehouse> {
    const code = v.warehouseCode('code', input.code);
    const changes: { name?: string; region?: string; priority?: number; active?: boolean } = {};
    if (input.name !== undefined) changes.name = v.text('name', input.name, 1, 200);
    if (input.region !== undefined) changes.region = v.text('region', input.region, 1, 64);
    if (input.priority !== undefined) changes.priority = v.intInRange('priority', input.priority, 0, MAX_PRIORITY);
    if (input.active !== undefined) changes.active = input.active;
    if (Object.keys(changes).length === 0) {
      throw new DomainError('INVALID_ARGUMENT', 'nothing to update: none of name, region, priority, active is set', {});
    }
    const expected = input.expectedVersion === undefined ? undefined : v.intInRange('expected_version', input.expectedVersion, 1, Number.MAX_SAFE_INTEGER);
    return this.uow.run(em, ctx, async (tx) => {
      const warehouse = await tx.em.getRepository(Warehouse).findForUpdate(code);
      if (warehouse === null) throw notFound('warehouse', code);
      if (expected !== undefined && warehouse.version !== expected) {
        throw new DomainError(
          'VERSION_CONFLICT',
          `warehouse ${JSON.stringify(code)} is at version ${warehouse.version}, not the expected ${expected}`,
          { field: 'expected_version', actual: warehouse.version, expected },
        );
      }
      Object.assign(warehouse, changes);
      warehouse.version += 1;
      warehouse.updatedAt = tx.now;
      tx.record(streamIds.warehouse(code), warehouse.version, { type: 'WarehouseUpdated', data: { code, changes } });
      return warehouse;
    });
  }
}
