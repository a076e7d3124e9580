import { createHmac, timingSafeEqual } from 'node:crypto';
import { invalid } from './errors.js';

/** A page cursor: the last key of the previous page, in JSON-safe values. */
export type Cursor = Readonly<Record<string, string | number>>;

const MAC_BYTES = 16;

/**
 * Page tokens are opaque and tamper-evident: base64url of the cursor's JSON, a dot, and a
 * truncated HMAC-SHA256 over the RPC name, the query the page belongs to and that JSON.
 * A token edited by hand, made up, or taken from another RPC or another filter fails the
 * MAC and is INVALID_ARGUMENT; the cursor's fields are still checked one by one after the
 * MAC passes (a leaked key must not let a token put a NUL or `1e300` into a query).
 *
 * Every instance of a fleet must share the key (PAGE_TOKEN_KEY) for a token from one to
 * work on another; a key made at random (development) makes tokens last one process.
 */
export class PageTokens {
  constructor(private readonly key: Uint8Array) {}

  encode(rpc: string, query: unknown, cursor: Cursor): string {
    const payload = Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
    return `${payload}.${this.mac(rpc, query, payload).toString('base64url')}`;
  }

  /** The cursor of `token` (undefined for ''), or INVALID_ARGUMENT naming page_token. */
  decode<T extends Cursor>(rpc: string, query: unknown, token: string, isValid: (value: Record<string, unknown>) => value is T): T | undefined {
    if (token === '') return undefined;
    const rejected = () => invalid('page_token', 'is not a token returned by this call with the same filters');
    const dot = token.indexOf('.');
    if (dot <= 0 || token.length > 2048) throw rejected();
    const payload = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.mac(rpc, query, payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw rejected();
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw rejected();
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !isValid(value as Record<string, unknown>)) throw rejected();
    return value as T;
  }

  /** Takes one row more than the page to learn whether another page follows. */
  page<R>(rpc: string, query: unknown, rows: R[], size: number, keyOf: (row: R) => Cursor): { rows: R[]; nextPageToken: string } {
    if (rows.length <= size) return { rows, nextPageToken: '' };
    const page = rows.slice(0, size);
    return { rows: page, nextPageToken: this.encode(rpc, query, keyOf(page[page.length - 1]!)) };
  }

  private mac(rpc: string, query: unknown, payload: string): Buffer {
    return createHmac('sha256', this.key)
      .update(JSON.stringify([rpc, query ?? null, payload]))
      .digest()
      .subarray(0, MAC_BYTES);
  }
}
