import { invalid } from './errors.js';

/** Field checks shared by every use case. Each throws INVALID_ARGUMENT naming the field. */

export const WAREHOUSE_CODE = /^[A-Z0-9_-]{1,32}$/;
export const SKU = /^[A-Za-z0-9._-]{1,64}$/;

export function requirePattern(field: string, value: string, pattern: RegExp, description: string): string {
  if (value === '') throw invalid(field, 'is required');
  if (!pattern.test(value)) throw invalid(field, `must be ${description}; got ${JSON.stringify(value.slice(0, 80))}`);
  return value;
}

export const warehouseCode = (field: string, value: string): string =>
  requirePattern(field, value, WAREHOUSE_CODE, "1-32 characters of A-Z, 0-9, '_' or '-'");

export const sku = (field: string, value: string): string =>
  requirePattern(field, value, SKU, "1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-'");

/** A trimmed-free text field with length bounds. */
export function text(field: string, value: string, min: number, max: number): string {
  if (min > 0 && value.trim() === '') throw invalid(field, 'is required');
  if (value.length > max) throw invalid(field, `must be at most ${max} characters; got ${value.length}`);
  if (value.length < min) throw invalid(field, `must be at least ${min} characters`);
  return value;
}

export function intInRange(field: string, value: number | bigint, min: number, max: number): number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw invalid(field, `must be an integer from ${min} to ${max}; got ${String(value)}`);
  }
  return n;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/**
 * AIP-158: 0 means the default, a size above the maximum is coerced down to it (a caller
 * asking for "everything" gets full pages, not an error); only a negative size is invalid.
 */
export function pageSize(value: number): number {
  if (value === 0) return DEFAULT_PAGE_SIZE;
  return Math.min(intInRange('page_size', value, 1, Number.MAX_SAFE_INTEGER), MAX_PAGE_SIZE);
}
