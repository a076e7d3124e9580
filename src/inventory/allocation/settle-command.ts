import { DomainError, invalid } from '../errors.js';
import * as sv from '../stock-validation.js';
import * as v from '../validation.js';
import type { AllocationRecord } from '../../persistence/repositories/allocation.repository.js';
import { MAX_LINES } from './allocate-command.js';
import { heldOf, type LineUnits } from './holds.js';

export interface SettleLineInput {
  sku: string;
  /** Empty: the allocation's only line of the sku. */
  warehouseCode: string;
  quantity: number | bigint;
}

/** FulfillAllocation and ReleaseAllocation: without lines the whole allocation, as before partial fulfilment. */
export interface SettleInput {
  allocationId: string;
  lines: SettleLineInput[];
  idempotencyKey: string;
}

export interface SettleCommand {
  readonly allocationId: string;
  readonly lines: ReadonlyArray<{ readonly sku: string; readonly warehouseCode: string | undefined; readonly quantity: number }>;
  readonly key: string | undefined;
}

/** Checks a FulfillAllocation or ReleaseAllocation request before any transaction starts. */
export function validateSettle(input: SettleInput, verb: string): SettleCommand {
  const allocationId = sv.allocationId('allocation_id', input.allocationId);
  if (input.lines.length > MAX_LINES) throw invalid('lines', `at most ${MAX_LINES} lines; got ${input.lines.length}`);
  const seen = new Map<string, number>();
  const lines = input.lines.map((l, i) => {
    const sku = v.sku(`lines[${i}].sku`, l.sku);
    const warehouseCode = l.warehouseCode === '' ? undefined : v.warehouseCode(`lines[${i}].warehouse_code`, l.warehouseCode);
    const quantity = sv.quantity(`lines[${i}].quantity`, l.quantity);
    const key = `${sku}#${warehouseCode ?? ''}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) throw invalid(`lines[${i}]`, `repeats the sku${warehouseCode === undefined ? '' : ' and warehouse'} of lines[${earlier}]; merge them into one line`);
    seen.set(key, i);
    return { sku, warehouseCode, quantity };
  });
  const key = sv.idempotencyKey(input.idempotencyKey);
  if (lines.length > 0 && key === undefined) {
    throw invalid('idempotency_key', `is required when lines are set, so that a repeated call cannot ${verb} the same units twice`);
  }
  return { allocationId, lines, key };
}

/**
 * The allocation lines a partial call names, with its units: a line without a warehouse
 * must match the allocation's only line of that sku. Throws naming the request line.
 */
export function resolveLines(allocation: AllocationRecord, command: SettleCommand, verb: string): LineUnits[] {
  const id = JSON.stringify(allocation.allocationId);
  const resolved = command.lines.map((l, i): LineUnits => {
    const candidates = allocation.lines.filter((a) => a.sku === l.sku && (l.warehouseCode === undefined || a.warehouseCode === l.warehouseCode));
    if (candidates.length === 0) {
      const where = l.warehouseCode === undefined ? '' : ` in warehouse ${JSON.stringify(l.warehouseCode)}`;
      throw new DomainError('NOT_FOUND', `lines[${i}]: allocation ${id} has no line of sku ${JSON.stringify(l.sku)}${where}`, {
        field: `lines[${i}]`,
        resource: 'allocation line',
        id: `${l.sku}#${l.warehouseCode ?? ''}`,
      });
    }
    if (candidates.length > 1) {
      throw invalid(
        `lines[${i}].warehouse_code`,
        `allocation ${id} holds sku ${JSON.stringify(l.sku)} in warehouses ${candidates.map((c) => c.warehouseCode).join(', ')}; name one`,
      );
    }
    const line = candidates[0]!;
    const held = heldOf(line);
    if (l.quantity > held) {
      throw new DomainError(
        'FAILED_PRECONDITION',
        `lines[${i}]: allocation ${id} holds ${held} of sku ${JSON.stringify(line.sku)} in warehouse ${JSON.stringify(line.warehouseCode)}; cannot ${verb} ${l.quantity}`,
        { field: `lines[${i}]`, allocation_id: allocation.allocationId, sku: line.sku, warehouse_code: line.warehouseCode, held, requested: l.quantity },
      );
    }
    return { sku: line.sku, warehouseCode: line.warehouseCode, quantity: l.quantity };
  });
  const first = new Map<string, number>();
  for (const [i, r] of resolved.entries()) {
    const k = `${r.sku}#${r.warehouseCode}`;
    const earlier = first.get(k);
    if (earlier !== undefined) throw invalid(`lines[${i}]`, `names the same line of the allocation as lines[${earlier}] (sku ${JSON.stringify(r.sku)} in warehouse ${JSON.stringify(r.warehouseCode)}); merge them`);
    first.set(k, i);
  }
  return resolved;
}
