import type { EntityManager } from '@mikro-orm/postgresql';
import type { CallContext } from '../../persistence/unit-of-work.js';
import type { RequestedLine } from '../allocation-strategy.js';
import { invalid } from '../errors.js';
import { fingerprint } from '../idempotency.js';
import * as sv from '../stock-validation.js';
import * as v from '../validation.js';

export interface AllocateLineInput {
  sku: string;
  quantity: number | bigint;
  /** Empty: the allocation strategy chooses. */
  warehouseCode: string;
}

export interface AllocateInput {
  allocationId: string;
  lines: AllocateLineInput[];
  ttl: { seconds: bigint | number; nanos: number } | undefined;
}

export const MAX_LINES = 100;

/** A validated AllocateStock call on its way through the batcher. */
export interface AllocateCommand {
  readonly em: EntityManager;
  readonly ctx: CallContext;
  readonly allocationId: string;
  readonly lines: readonly RequestedLine[];
  readonly ttlMs: number | undefined;
  readonly requestHash: string;
}

/** Checks an AllocateStock request; everything is rejected before any transaction starts. */
export function validateAllocate(em: EntityManager, ctx: CallContext, input: AllocateInput): AllocateCommand {
  const allocationId = sv.allocationId('allocation_id', input.allocationId);
  if (input.lines.length === 0) throw invalid('lines', 'at least one line is required');
  if (input.lines.length > MAX_LINES) throw invalid('lines', `at most ${MAX_LINES} lines; got ${input.lines.length}`);
  const seen = new Map<string, number>();
  const lines = input.lines.map((l, i): RequestedLine => {
    const sku = v.sku(`lines[${i}].sku`, l.sku);
    const quantity = sv.quantity(`lines[${i}].quantity`, l.quantity);
    const warehouseCode = l.warehouseCode === '' ? undefined : v.warehouseCode(`lines[${i}].warehouse_code`, l.warehouseCode);
    const key = `${sku}#${warehouseCode ?? ''}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw invalid(`lines[${i}]`, `repeats the sku${warehouseCode === undefined ? '' : ' and warehouse'} of lines[${earlier}]; merge them into one line`);
    }
    seen.set(key, i);
    return { sku, quantity, warehouseCode };
  });
  const ttlMs = sv.ttlMs(input.ttl);
  const canonical = [...lines]
    .map((l) => [l.sku, l.warehouseCode ?? '', l.quantity] as const)
    .sort((a, b) => (a[0] + '#' + a[1] < b[0] + '#' + b[1] ? -1 : 1));
  return { em, ctx, allocationId, lines, ttlMs, requestHash: fingerprint({ lines: canonical, ttlMs: ttlMs ?? null }) };
}
