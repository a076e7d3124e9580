import type { ExtendAllocationRequest } from '../gen/inventory/v1/allocation_changes.js';
import type { ExpiryInput } from '../inventory/allocations.js';

/** ExtendAllocationRequest's `expiry` oneof as the use case takes it; undefined when unset. */
export function toExpiryInput(expiry: ExtendAllocationRequest['expiry']): ExpiryInput | undefined {
  switch (expiry?.$case) {
    case undefined:
      return undefined;
    case 'expireTime':
      return { kind: 'expireTime', value: expiry.value };
    case 'ttl':
      return { kind: 'ttl', value: expiry.value };
    case 'noExpiry':
      return { kind: 'noExpiry', value: expiry.value };
    default: {
      const never: never = expiry;
      throw new Error(`unexpected expiry ${JSON.stringify(never)}`);
    }
  }
}
