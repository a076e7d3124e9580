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

/**
 * The one rule for the characters of free text (names, region, description, reason,
 * reference, stream id prefix). NUL is never accepted: PostgreSQL text cannot hold it.
 * Nor are the other C0 controls, DEL and the C1 controls (U+0080-U+009F), which no
 * display or terminal shows faithfully, nor unpaired UTF-16 surrogates, which UTF-8 (and
 * so the database) cannot represent. `multiline` fields (description, reason) also accept
 * TAB, LF and CR. Everything else of Unicode is accepted, astral-plane characters included.
 */
export type TextKind = 'line' | 'multiline';

const CONTROL: Record<TextKind, RegExp> = {
  line: /[\u0000-\u001f\u007f-\u009f]/,
  multiline: /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/,
};

// In u-mode a surrogate pair is one code point; only an unpaired half is in category Cs.
const LONE_SURROGATE = /\p{Cs}/u;

/** INVALID_ARGUMENT naming `field` unless `value` holds only characters text fields accept. */
export function textCharacters(field: string, value: string, kind: TextKind = 'line'): string {
  const bad = CONTROL[kind].exec(value);
  if (bad !== null) {
    const at = bad.index;
    const code = value.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0');
    throw invalid(field, `must not contain control characters; U+${code} at position ${at}`);
  }
  if (LONE_SURROGATE.test(value)) throw invalid(field, 'must be well-formed Unicode (it holds an unpaired surrogate)');
  return value;
}

/** A free text field (not trimmed) with length bounds and the character rule above. */
export function text(field: string, value: string, min: number, max: number, kind: TextKind = 'line'): string {
  if (min > 0 && value.trim() === '') throw invalid(field, 'is required');
  if (value.length > max) throw invalid(field, `must be at most ${max} characters; got ${value.length}`);
  if (value.length < min) throw invalid(field, `must be at least ${min} characters`);
  return textCharacters(field, value, kind);
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
