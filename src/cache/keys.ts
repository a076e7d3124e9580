/**
 * Cache keys and what a committed change invalidates.
 *
 * The key of a cached entity is its event stream id (`item#SKU`, `warehouse#CODE`,
 * `stock#SKU#WH`, see src/events/types.ts), so a committed event names the entry it makes
 * stale. Derived views get their own prefix: `availability#SKU` sums every stock level of
 * a sku and reads the warehouses' `active` flag.
 */

const AVAILABILITY = 'availability#';

export const availabilityKey = (sku: string): string => `${AVAILABILITY}${sku}`;

/** What one changed stream makes stale. */
export type Invalidation =
  | { readonly kind: 'keys'; readonly keys: readonly string[]; readonly prefixes: readonly string[] }
  | { readonly kind: 'all' };

const none: Invalidation = { kind: 'keys', keys: [], prefixes: [] };
const all: Invalidation = { kind: 'all' };

/**
 * The cache entries a committed change of `streamId` makes stale. An unknown stream kind
 * (a newer instance writing events this one does not know) drops everything: wasteful,
 * never stale.
 */
export function invalidationFor(streamId: string): Invalidation {
  const hash = streamId.indexOf('#');
  const kind = hash < 0 ? streamId : streamId.slice(0, hash);
  switch (kind) {
    case 'item':
      return { kind: 'keys', keys: [streamId], prefixes: [] };
    case 'warehouse':
      // Availability's `allocatable` sums only active warehouses: any warehouse change may move it.
      return { kind: 'keys', keys: [streamId], prefixes: [AVAILABILITY] };
    case 'stock': {
      const sku = streamId.slice(hash + 1, streamId.indexOf('#', hash + 1));
      if (sku === '' || streamId.indexOf('#', hash + 1) < 0) return all;
      return { kind: 'keys', keys: [streamId, availabilityKey(sku)], prefixes: [] };
    }
    case 'allocation':
      return none; // allocations are not cached; their stock changes come as stock# events
    case 'incoming': {
      // GetAvailability reports the sku's open incoming stock
      const sku = streamId.slice(hash + 1, streamId.indexOf('#', hash + 1));
      if (sku === '' || streamId.indexOf('#', hash + 1) < 0) return all;
      return { kind: 'keys', keys: [availabilityKey(sku)], prefixes: [] };
    }
    default:
      return all;
  }
}
