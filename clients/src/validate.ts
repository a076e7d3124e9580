import { status } from '@grpc/grpc-js';
import { BadRequest, ErrorInfo } from './gen/google/rpc/error_details.js';
import { InventoryError } from './errors.js';

/** How a request field is checked: its wire type, or the message it holds. */
export type FieldType = 'int32' | 'uint32' | 'int64' | 'uint64' | 'enum' | `message:${string}`;

/** @internal One field of a generated field table (src/gen/fields.ts). */
export interface FieldInfo {
  /** The proto field name, as the server names it in errors. */
  readonly name: string;
  readonly type: FieldType;
  readonly repeated?: boolean;
}

/** @internal A message's checked fields by ts-proto property name; a oneof lists its cases. */
export type MessageFields = Readonly<Record<string, FieldInfo | { readonly oneof: Readonly<Record<string, FieldInfo>> }>>;

const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const UINT32 = { min: 0, max: 2 ** 32 - 1 };
const INT64 = { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER };
const UINT64 = { min: 0, max: Number.MAX_SAFE_INTEGER };
const RANGES = { int32: INT32, uint32: UINT32, int64: INT64, uint64: UINT64, enum: INT32 } as const;

/**
 * The server's own bound on every field named `quantity` (proto: "Units: 1 to 1000000000"),
 * checked here with the server's wording so that a negative or zero quantity fails the
 * same way before it is sent.
 */
const MAX_QUANTITY = 1_000_000_000;

const ERROR_DOMAIN = 'inventory.v1';

/** An INVALID_ARGUMENT shaped exactly like the server's: message `field: problem`, ErrorInfo and BadRequest. */
export function invalidArgument(field: string, problem: string, method?: string): InventoryError {
  const statusMessage = `${field}: ${problem}`;
  return new InventoryError({
    code: status.INVALID_ARGUMENT,
    statusMessage,
    ...(method === undefined ? {} : { method }),
    attempts: 0,
    statusDetails: [
      {
        typeUrl: 'type.googleapis.com/google.rpc.ErrorInfo',
        value: Buffer.from(ErrorInfo.encode({ reason: 'INVALID_ARGUMENT', domain: ERROR_DOMAIN, metadata: { field } }).finish()),
      },
      {
        typeUrl: 'type.googleapis.com/google.rpc.BadRequest',
        value: Buffer.from(BadRequest.encode({ fieldViolations: [{ field, description: statusMessage }] }).finish()),
      },
    ],
  });
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value);
}

function checkInteger(path: string, info: FieldInfo, value: unknown, method: string): void {
  const range = RANGES[info.type as keyof typeof RANGES];
  if (typeof value !== 'number') throw invalidArgument(path, `must be an integer (a number); got ${typeof value} ${describe(value)}`, method);
  if (!Number.isInteger(value)) throw invalidArgument(path, `must be an integer; got ${describe(value)}`, method);
  if (info.name === 'quantity' && (value < 1 || value > MAX_QUANTITY)) {
    throw invalidArgument(path, `must be an integer from 1 to ${MAX_QUANTITY}; got ${value}`, method);
  }
  if (value < range.min || value > range.max) {
    throw invalidArgument(path, `must be an integer from ${range.min} to ${range.max}; got ${value}`, method);
  }
}

function checkValue(path: string, info: FieldInfo, value: unknown, tables: Readonly<Record<string, MessageFields>>, method: string): void {
  if (info.type.startsWith('message:')) {
    if (typeof value !== 'object' || value === null) throw invalidArgument(path, `must be an object; got ${describe(value)}`, method);
    checkMessage(path, tables[info.type.slice('message:'.length)], value as Record<string, unknown>, tables, method);
  } else checkInteger(path, info, value, method);
}

function checkField(path: string, info: FieldInfo, value: unknown, tables: Readonly<Record<string, MessageFields>>, method: string): void {
  if (value === undefined || value === null) return; // left out: the proto default
  if (info.repeated !== true) return checkValue(path, info, value, tables, method);
  if (!Array.isArray(value)) throw invalidArgument(path, 'must be an array', method);
  value.forEach((element, i) => checkValue(`${path}[${i}]`, info, element, tables, method));
}

function checkMessage(
  prefix: string,
  fields: MessageFields | undefined,
  message: Readonly<Record<string, unknown>>,
  tables: Readonly<Record<string, MessageFields>>,
  method: string,
): void {
  if (fields === undefined) return;
  const at = (name: string) => (prefix === '' ? name : `${prefix}.${name}`);
  for (const [key, spec] of Object.entries(fields)) {
    const value = message[key];
    if (!('oneof' in spec)) {
      checkField(at(spec.name), spec, value, tables, method);
      continue;
    }
    if (value === undefined || value === null) continue;
    const { $case, value: inner } = value as { $case?: unknown; value?: unknown };
    const info = typeof $case === 'string' ? spec.oneof[$case] : undefined;
    if (info !== undefined) checkField(at(info.name), info, inner, tables, method);
  }
}

/**
 * Rejects, before anything is sent, what the client can recognise as invalid: a fraction,
 * a string or an unsafe number in an integer field, a value out of its wire type's range,
 * and a `quantity` outside 1 to 10^9. The error is the INVALID_ARGUMENT the server would
 * send, naming the field by its proto path (`lines[0].quantity`).
 */
export function validateRequest(
  method: string,
  request: unknown,
  tables: Readonly<Record<string, MessageFields>>,
  requests: Readonly<Record<string, string>>,
): void {
  if (request === undefined || request === null) return;
  const type = requests[method];
  if (type === undefined) return;
  checkMessage('', tables[type], request as Record<string, unknown>, tables, method);
}
