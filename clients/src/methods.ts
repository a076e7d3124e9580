import type { MethodDefinition, ServiceDefinition } from './types.js';

/**
 * How safe it is to send a method's request again after a transient failure, when the
 * client cannot know whether the first attempt was applied:
 * - `read`: changes nothing; always retried.
 * - `idempotent`: a write whose repetition is harmless by contract; always retried.
 * - `keyed-write`: a write deduplicated by the server through `keyField`; retried only when
 *   the request carries a non-empty key (which the client may fill in, see `autoKey`).
 * - `write`: never retried, since a second attempt could apply the change twice.
 */
export type MethodKind =
  | { readonly kind: 'read' }
  | { readonly kind: 'idempotent' }
  | { readonly kind: 'keyed-write'; readonly keyField: string; readonly autoKey: boolean }
  | { readonly kind: 'write' };

/** The request field that carries an idempotency key, by convention across the API. */
export const IDEMPOTENCY_KEY_FIELD = 'idempotencyKey';

const READ_PREFIX = /^(Get|List|BatchGet|Check)([A-Z]|$)/;

/**
 * Methods whose safety the naming rules cannot see, by `<package>.<Service>/<Method>`.
 * AllocateStock is deduplicated by its caller-chosen allocation_id (which the client must
 * not invent); releasing or fulfilling an allocation twice returns it unchanged.
 */
export const METHOD_KIND_OVERRIDES: Readonly<Record<string, MethodKind>> = Object.freeze({
  'inventory.v1.InventoryService/AllocateStock': { kind: 'keyed-write', keyField: 'allocationId', autoKey: false },
  'inventory.v1.InventoryService/ReleaseAllocation': { kind: 'idempotent' },
  'inventory.v1.InventoryService/FulfillAllocation': { kind: 'idempotent' },
  // Deduplicated by the caller's incoming_id, like AllocateStock; cancelling twice returns the record unchanged.
  'inventory.v1.InventoryService/RecordIncomingStock': { kind: 'keyed-write', keyField: 'incomingId', autoKey: false },
  'inventory.v1.InventoryService/CancelIncomingStock': { kind: 'idempotent' },
});

/**
 * Classifies a method from its generated definition, in this order: an explicit override;
 * server streams and methods named Get*, List*, BatchGet*, Check* are reads; a request
 * with an `idempotency_key` field makes a keyed write whose key the client fills in;
 * anything else is a plain write.
 */
export function classifyMethod(
  service: Pick<ServiceDefinition, 'fullName'>,
  method: MethodDefinition,
  overrides: Readonly<Record<string, MethodKind>> = METHOD_KIND_OVERRIDES,
): MethodKind {
  const override = overrides[`${service.fullName}/${method.name}`] ?? overrides[method.name];
  if (override !== undefined) return override;
  if (method.responseStream || READ_PREFIX.test(method.name)) return { kind: 'read' };
  // fromPartial({}) yields every field with its default, so the key exists iff the field does.
  const defaults = method.requestType.fromPartial({} as never) as object;
  if (Object.hasOwn(defaults, IDEMPOTENCY_KEY_FIELD)) return { kind: 'keyed-write', keyField: IDEMPOTENCY_KEY_FIELD, autoKey: true };
  return { kind: 'write' };
}

/** The idempotency key a request carries, if its method is a keyed write and it is set. */
export function carriedKey(kind: MethodKind, request: object): string | undefined {
  if (kind.kind !== 'keyed-write') return undefined;
  const value = (request as Record<string, unknown>)[kind.keyField];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Whether a failed attempt of this request may be sent again. */
export function mayRepeat(kind: MethodKind, request: object): boolean {
  switch (kind.kind) {
    case 'read':
    case 'idempotent':
      return true;
    case 'keyed-write':
      return carriedKey(kind, request) !== undefined;
    case 'write':
      return false;
    default: {
      const never: never = kind;
      return never;
    }
  }
}
