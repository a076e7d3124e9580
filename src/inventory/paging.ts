import { invalid } from './errors.js';

/**
 * Page tokens are opaque to callers: base64url of a small JSON object holding the last key
 * of the previous page and the filter it was made for, so a token cannot be replayed
 * against a different filter.
 */
export function encodePageToken(cursor: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export function decodePageToken<T extends Record<string, string | number>>(
  token: string,
  isValid: (value: Record<string, unknown>) => value is T,
): T | undefined {
  if (token === '') return undefined;
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null && isValid(value as Record<string, unknown>)) return value as T;
  } catch {
    // fall through
  }
  throw invalid('page_token', 'is not a token returned by this call with the same filters');
}

/** Takes one row more than the page to learn whether another page follows. */
export function splitPage<T>(rows: T[], size: number, keyOf: (row: T) => Record<string, string | number>): {
  rows: T[];
  nextPageToken: string;
} {
  if (rows.length <= size) return { rows, nextPageToken: '' };
  const page = rows.slice(0, size);
  return { rows: page, nextPageToken: encodePageToken(keyOf(page[page.length - 1]!)) };
}
