import { invalid } from './errors.js';
import { intInRange } from './validation.js';

/** Field checks of the stock and allocation calls. Each throws INVALID_ARGUMENT naming the field. */

export const MAX_QUANTITY = 1_000_000_000;

export const quantity = (field: string, value: number | bigint): number => intInRange(field, value, 1, MAX_QUANTITY);

const PRINTABLE = /^[\x21-\x7e]*$/;

/** Optional idempotency key: empty for none, else 1-128 printable ASCII characters without spaces. */
export function idempotencyKey(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 128) throw invalid('idempotency_key', `must be at most 128 characters; got ${value.length}`);
  if (!PRINTABLE.test(value)) throw invalid('idempotency_key', 'must be printable ASCII without spaces');
  return value;
}

export const ALLOCATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function allocationId(field: string, value: string): string {
  if (value === '') throw invalid(field, 'is required');
  if (!ALLOCATION_ID.test(value)) {
    throw invalid(field, `must be 1-128 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'; got ${JSON.stringify(value.slice(0, 80))}`);
  }
  return value;
}

/** A protobuf Duration as milliseconds, for allocation time-to-live. */
export function ttlMs(value: { seconds: bigint | number; nanos: number } | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value.seconds);
  const ms = seconds * 1000 + Math.trunc(value.nanos / 1e6);
  if (!Number.isFinite(ms) || ms <= 0) throw invalid('ttl', `must be positive (an expiry in the future); got ${seconds}s ${value.nanos}ns`);
  if (ms < 1000 || ms > MAX_TTL_MS) throw invalid('ttl', `must be from 1 second to 30 days; got ${ms / 1000}s`);
  return ms;
}

export const MAX_TTL_MS = 30 * 24 * 3600 * 1000;

/**
 * The times a request may carry: google.protobuf.Timestamp's own range (years 1 to 9999),
 * well inside what PostgreSQL's timestamptz stores (4713 BC to 294276 AD), so no valid
 * Timestamp ever reaches the database as "timestamp out of range".
 */
export const MIN_TIME_MS = Date.parse('0001-01-01T00:00:00.000Z');
export const MAX_TIME_MS = Date.parse('9999-12-31T23:59:59.999Z');

export function time(field: string, value: Date): Date {
  const ms = value.getTime();
  if (Number.isNaN(ms) || ms < MIN_TIME_MS || ms > MAX_TIME_MS) {
    throw invalid(field, 'must be a time from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z');
  }
  return value;
}

/** An optional timestamp filter; undefined when unset. */
export function optionalTime(field: string, value: Date | undefined): Date | undefined {
  return value === undefined ? undefined : time(field, value);
}
