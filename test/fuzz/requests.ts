import { create, createFileRegistry, fromBinary, ScalarType, toBinary, type DescField, type DescMessage, type DescMethod } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import fc from 'fast-check';
import { descriptorSetBase64 } from '../../src/gen/descriptor-set.js';

/**
 * Requests for every RPC of the service, generated from the contracts: the descriptor set
 * buf builds from proto/ is walked field by field, so a new RPC or field is fuzzed without
 * touching this file. Values mix plausible ones (codes and skus that exist, so calls reach
 * the database) with hostile ones: control characters, NUL, astral-plane text, unpaired
 * surrogates, boundary and out-of-range integers, huge repeated fields, crafted page tokens,
 * extreme timestamps and durations, unknown enum numbers.
 */

export const SERVICES = ['inventory.v1.InventoryService', 'inventory.v1.EventService'] as const;

const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, Buffer.from(descriptorSetBase64, 'base64')));

export interface Rpc {
  readonly path: string;
  readonly name: string;
  readonly streaming: boolean;
  readonly input: DescMessage;
  /** Changes state when it succeeds. */
  readonly writes: boolean;
}

export const RPCS: readonly Rpc[] = SERVICES.flatMap((s) => {
  const service = registry.getService(s);
  if (service === undefined) throw new Error(`${s} is not in the descriptor set`);
  return service.methods.map((m: DescMethod) => ({
    path: `/${service.typeName}/${m.name}`,
    name: m.name,
    streaming: m.methodKind === 'server_streaming',
    input: m.input,
    writes: /^(Create|Update|Receive|Adjust|Transfer|Allocate|Release|Fulfill|Move|Record|Cancel)/.test(m.name),
  }));
});

/** Every field name of a message and of the messages it holds (what an error may name). */
export function fieldNames(message: DescMessage, seen = new Set<string>()): Set<string> {
  const names = new Set<string>();
  if (seen.has(message.typeName)) return names;
  seen.add(message.typeName);
  for (const f of message.fields) {
    names.add(f.name);
    const nested = f.fieldKind === 'message' || (f.fieldKind === 'list' && f.listKind === 'message') ? f.message : undefined;
    if (nested !== undefined) for (const n of fieldNames(nested, seen)) names.add(n);
  }
  for (const o of message.oneofs) names.add(o.name);
  return names;
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\u0007\u001b[2J', '\u007f', '\u0085', '\u2028', 'tab\there', 'line\nbreak', '\ud800', 'x\udfff', '📦𝄞', '\ufeff', ' ', '%', "'; drop table item; --"),
  fc.string({ minLength: 190, maxLength: 3000 }),
);

const PLAUSIBLE: Record<string, readonly string[]> = {
  code: ['WH-1', 'WH-2', 'WH-NEW', 'wh-1'],
  warehouse_code: ['WH-1', 'WH-2', 'WH-9'],
  from_warehouse_code: ['WH-1', 'WH-2'],
  to_warehouse_code: ['WH-2', 'WH-1'],
  sku: ['SKU-1', 'SKU-2', 'SKU-NEW', 'sku.1'],
  sku_prefix: ['SKU', 'S', ''],
  allocation_id: ['A-1', 'A-NEW', 'A:2'],
  stream_id: ['warehouse#WH-1', 'item#SKU-1', 'stock#SKU-1#WH-1', 'allocation#A-1', 'bogus#x', 'stock#'],
  stream_id_prefix: ['stock#', 'warehouse#', ''],
  event_types: ['StockReceived', 'WarehouseCreated', 'NoSuchEvent'],
  idempotency_key: ['k-1', 'k-2', ''],
  name: ['Name', ''],
  region: ['eu'],
  reason: ['count', ''],
  reference: ['PO-1', ''],
  description: ['desc', ''],
};

const pageToken = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 60 }),
  fc.constantFrom(
    b64({ after: 'WH\u0000' }),
    b64({ after: 'SKU-1', prefix: '' }),
    b64({ t: '2020-01-01T00:00:00.000Z', id: 1.5 }),
    b64({ t: '2020-01-01T00:00:00.000Z', id: 1e300 }),
    b64({ t: '-200000-01-01T00:00:00.000Z', id: 1 }),
    b64({ a: 0, s: 'SKU-1', w: 'WH-1' }),
    `${b64({ after: 'WH-1' })}.AAAAAAAAAAAAAAAAAAAAAA`,
    '.',
  ),
);

function stringField(name: string): fc.Arbitrary<string> {
  if (name === 'page_token') return pageToken;
  const plausible = PLAUSIBLE[name];
  return plausible === undefined ? fc.oneof({ weight: 1, arbitrary: fc.constant('') }, { weight: 3, arbitrary: hostileText }) : fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...plausible) }, { weight: 2, arbitrary: hostileText });
}

const INT32 = [0, 1, -1, 2, 10, 999, 1000, 1001, 1_000_000, 1_000_001, 2 ** 31 - 1, -(2 ** 31)];
const INT64 = [0n, 1n, -1n, 5n, 1_000_000_000n, 1_000_000_001n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n, -(2n ** 63n)];

function scalar(type: ScalarType, name: string): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.STRING:
      return stringField(name);
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return fc.oneof(fc.constantFrom(...INT32), fc.integer());
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return fc.oneof(fc.constantFrom(0, 1, 2 ** 32 - 1, 1000, 1001), fc.nat());
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return fc.oneof(fc.constantFrom(...INT64), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return fc.oneof(fc.constantFrom(0n, 1n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return fc.double();
    case ScalarType.BYTES:
      return fc.uint8Array({ maxLength: 64 });
    default: {
      const never: never = type;
      return never;
    }
  }
}

// Timestamp/Duration seconds around the edges of what PostgreSQL, JS Dates and the protobuf spec hold.
const SECONDS = [0n, -1n, 1n, 60n, 2_592_000n, 2_592_001n, -62_135_596_800n, -62_135_596_801n, 253_402_300_799n, 253_402_300_800n, -8_640_000_000_000n, 8_640_000_000_001n, 2n ** 63n - 1n, -(2n ** 63n)];
const NANOS = [0, 1, -1, 999_999_999, 1_000_000_000, -(2 ** 31), 2 ** 31 - 1];

function wellKnown(message: DescMessage): fc.Arbitrary<unknown> | undefined {
  if (message.typeName !== 'google.protobuf.Timestamp' && message.typeName !== 'google.protobuf.Duration') return undefined;
  const now = BigInt(Math.floor(Date.now() / 1000));
  return fc.record({
    seconds: fc.oneof(fc.constantFrom(...SECONDS, now, now - 86_400n), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
    nanos: fc.oneof(fc.constantFrom(...NANOS), fc.integer()),
  });
}

function fieldValue(f: DescField, depth: number): fc.Arbitrary<unknown> {
  switch (f.fieldKind) {
    case 'scalar':
      return scalar(f.scalar, f.name);
    case 'enum':
      return fc.oneof(fc.constantFrom(...f.enum.values.map((v) => v.number)), fc.constantFrom(99, -1, 2 ** 31 - 1));
    case 'message':
      return messageInit(f.message, depth + 1);
    case 'list': {
      const element: fc.Arbitrary<unknown> =
        f.listKind === 'scalar' ? scalar(f.scalar, f.name) : f.listKind === 'enum' ? fc.constantFrom(...f.enum.values.map((v) => v.number)) : messageInit(f.message, depth + 1);
      // Mostly short lists; sometimes far past any limit (1000 keys, 64 lines, ...).
      return fc.oneof({ weight: 9, arbitrary: fc.array(element, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.array(element, { minLength: 1001, maxLength: 1300 }) });
    }
    case 'map':
      return fc.constant({});
    default: {
      const never: never = f;
      return never;
    }
  }
}

/** A message initializer for `create(desc, init)`: each field set or left out, one member per oneof. */
function messageInit(message: DescMessage, depth: number): fc.Arbitrary<unknown> {
  const known = wellKnown(message);
  if (known !== undefined) return known;
  if (depth > 3) return fc.constant({});
  const plain: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of message.fields) if (f.oneof === undefined) plain[f.localName] = fieldValue(f, depth);
  const oneofs: Record<string, fc.Arbitrary<unknown>> = {};
  for (const o of message.oneofs) {
    oneofs[o.localName] = fc.oneof(
      fc.constant(undefined),
      ...o.fields.map((f) => fieldValue(f, depth).map((value) => ({ case: f.localName, value }))),
    );
  }
  return fc.record({ ...plain, ...oneofs }, { requiredKeys: [] });
}

export interface GeneratedCall {
  readonly rpc: Rpc;
  readonly bytes: Uint8Array;
  /** A 1 ms deadline now and then (the call may finish, or not). */
  readonly deadlineMs: number;
}

export const generatedCall: fc.Arbitrary<GeneratedCall> = fc
  .constantFrom(...RPCS)
  .chain((rpc) =>
    fc.record({
      rpc: fc.constant(rpc),
      init: messageInit(rpc.input, 0),
      deadlineMs: fc.oneof({ weight: 19, arbitrary: fc.constant(10_000) }, { weight: 1, arbitrary: fc.constant(1) }),
    }),
  )
  .map(({ rpc, init, deadlineMs }) => ({
    rpc,
    bytes: toBinary(rpc.input, create(rpc.input, init as never)),
    deadlineMs,
  }));

/** The raw malformed-bytes cases, sent to every RPC. */
export const MALFORMED: Readonly<Record<string, number[]>> = {
  'truncated length': [0x0a, 0x0a, 0x41, 0x42],
  'wire type 6': [0x0e, 0x01],
  'wire type 7': [0x0f],
  'open group': [0x0b, 0x08, 0x01],
  '11-byte varint': [0x08, ...Array<number>(10).fill(0xff), 0x01],
  '11-byte varint in every int field': [0x10, ...Array<number>(10).fill(0xff), 0x01, 0x18, ...Array<number>(10).fill(0xff), 0x01, 0x20, ...Array<number>(10).fill(0xff), 0x01],
  'truncated varint': [0x08, 0xff],
  'length past the end': [0x12, 0x7f, 0x01],
};

/** Random bytes, for the raw cases. */
export const randomBytes = fc.uint8Array({ minLength: 1, maxLength: 64 });
