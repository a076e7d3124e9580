import { Writable } from 'node:stream';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { pino } from 'pino';
import { startApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { InventoryServiceServer } from '../../src/gen/inventory/v1/inventory_service.js';
import { textCharacters } from '../../src/inventory/validation.js';
import { failure, promiseClient, type PromiseClient } from '../support/app.js';
import { eventClient, streamEvents, Subscription } from '../support/events.js';
import { dynamoEndpoint, freshDatabase, freshTableName } from '../support/stack.js';
import { seed, sql } from '../support/stock.js';
import { InventoryServiceClient, ListStockMovementsRequest } from '../../src/gen/inventory/v1/inventory_service.js';
import { Timestamp } from '../../src/gen/google/protobuf/timestamp.js';
import type { App } from '../../src/app.js';

/** Every log line the service writes, parsed. */
class LogLines extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
}

const NUL = '\u0000';

describe('bad input is INVALID_ARGUMENT naming the field, and changes nothing (e2e)', function () {
  this.timeout(60_000);
  let app: App;
  let c: PromiseClient<InventoryServiceServer>;
  let raw: InventoryServiceClient;
  let url: string;
  let address: string;
  const logs = new LogLines();

  before(async () => {
    url = await freshDatabase();
    const config = loadConfig({ GRPC_PORT: '0', METRICS_PORT: '0', DATABASE_URL: url, DYNAMODB_ENDPOINT: dynamoEndpoint(), EVENTS_TABLE: freshTableName(), DATABASE_POOL_MIN: '0' });
    app = await startApp(config, pino({ level: 'info' }, logs));
    address = `127.0.0.1:${app.port}`;
    raw = new InventoryServiceClient(address, credentials.createInsecure());
    c = promiseClient<InventoryServiceServer>(raw);
    await seed(c, { 'WH-1': 1, 'WH-2': 2 }, ['SKU-1']);
    await c.receiveStock({ sku: 'SKU-1', warehouseCode: 'WH-1', quantity: 5n });
  });
  after(async () => {
    raw.close();
    await app.stop();
  });

  const sendRaw = (path: string, bytes: Buffer, streaming: boolean) =>
    new Promise<ServiceError>((resolve, reject) => {
      const client = new Client(address, credentials.createInsecure());
      const done = (err: ServiceError | null) => {
        client.close();
        if (err) resolve(err);
        else reject(new Error('expected a failure'));
      };
      const id = (b: Buffer) => b;
      if (streaming) {
        const call = client.makeServerStreamRequest(path, id, id, bytes, new Metadata());
        call.on('data', () => undefined);
        call.on('error', done);
        call.on('end', () => done(null));
      } else client.makeUnaryRequest(path, id, id, bytes, new Metadata(), done);
    });

  const outboxRows = async () => Number((await sql<{ n: string }>(url, 'select count(*) as n from event_outbox'))[0]!.n);

  async function rejected(call: () => Promise<unknown>, field: string): Promise<ServiceError> {
    const before = await outboxRows();
    const err = await failure(call());
    expect(err.code, err.details).to.equal(status.INVALID_ARGUMENT);
    expect(err.details.startsWith(`${field}: `), err.details).to.equal(true);
    expect(await outboxRows()).to.equal(before);
    return err;
  }

  describe('text fields', () => {
    const cases: Array<[string, (text: string) => Promise<unknown>]> = [
      ['name', (x) => c.createWarehouse({ code: 'WH-N', name: x, region: 'eu', priority: 1 })],
      ['region', (x) => c.createWarehouse({ code: 'WH-N', name: 'n', region: x, priority: 1 })],
      ['name', (x) => c.updateWarehouse({ code: 'WH-1', name: x })],
      ['region', (x) => c.updateWarehouse({ code: 'WH-1', region: x })],
      ['name', (x) => c.createItem({ sku: 'SKU-N', name: x })],
      ['description', (x) => c.createItem({ sku: 'SKU-N', name: 'n', description: x })],
      ['reference', (x) => c.receiveStock({ sku: 'SKU-1', warehouseCode: 'WH-1', quantity: 1n, reference: x })],
      ['reason', (x) => c.adjustStock({ sku: 'SKU-1', warehouseCode: 'WH-1', change: { $case: 'delta', value: 1n }, reason: x })],
      ['reference', (x) => c.adjustStock({ sku: 'SKU-1', warehouseCode: 'WH-1', change: { $case: 'delta', value: 1n }, reason: 'r', reference: x })],
      ['reference', (x) => c.transferStock({ sku: 'SKU-1', fromWarehouseCode: 'WH-1', toWarehouseCode: 'WH-2', quantity: 1n, reference: x })],
    ];
    for (const [field, call] of cases) {
      it(`${field}: NUL, other controls and DEL are rejected (${call.toString().slice(12, 40)})`, async () => {
        for (const bad of [`a${NUL}b`, NUL, 'a\u0001', 'a\u007f', 'a\u0085', 'x\u001b[31m']) await rejected(() => call(bad), field);
      });
    }

    it('SubscribeEvents stream_id_prefix with a NUL is INVALID_ARGUMENT before the stream starts', async () => {
      const events = eventClient(address);
      try {
        const s = new Subscription(events, { streamIdPrefix: `stock#${NUL}` });
        await new Promise<void>((resolve) => s.call.on('error', () => resolve()));
        expect(s.error?.code).to.equal(status.INVALID_ARGUMENT);
        expect(s.error?.details).to.match(/^stream_id_prefix: /);
      } finally {
        events.close();
      }
    });

    it('accepts astral-plane text, and line breaks only in multi-line fields', async () => {
      const { item } = await c.createItem({ sku: 'SKU-EMOJI', name: 'Box 📦 𝄞', description: 'line one\nline two\ttabbed' });
      expect(item!.name).to.equal('Box 📦 𝄞');
      expect((await c.getItem({ sku: 'SKU-EMOJI', consistent: true })).item!.description).to.equal('line one\nline two\ttabbed');
      await rejected(() => c.createItem({ sku: 'SKU-LINE', name: 'two\nlines' }), 'name');
    });

    it('one rule in one place: unpaired surrogates are rejected too (they cannot reach the wire)', () => {
      expect(() => textCharacters('name', 'a\ud800b')).to.throw(/^name: must be well-formed Unicode/);
      expect(textCharacters('name', '𝄞')).to.equal('𝄞');
    });

    it('AdjustStock with a NUL in reason is rejected even when new_on_hand equals on_hand', async () => {
      const before = (await c.getStockLevel({ sku: 'SKU-1', warehouseCode: 'WH-1', consistent: true })).stockLevel!;
      await rejected(
        () => c.adjustStock({ sku: 'SKU-1', warehouseCode: 'WH-1', change: { $case: 'newOnHand', value: before.onHand }, reason: `count${NUL}` }),
        'reason',
      );
      const after = (await c.getStockLevel({ sku: 'SKU-1', warehouseCode: 'WH-1', consistent: true })).stockLevel!;
      expect(after.version).to.equal(before.version);
    });
  });

  describe('times', () => {
    for (const [field, seconds] of [
      ['start_time', -8_640_000_000_000n],
      ['start_time', -62_135_596_801n], // one second before 0001-01-01
      ['end_time', 253_402_300_800n], // 10000-01-01
    ] as const) {
      it(`ListStockMovements ${field} of ${seconds} s is INVALID_ARGUMENT`, async () => {
        const time = new Date(Number(seconds) * 1000);
        await rejected(() => c.listStockMovements({ sku: 'SKU-1', [field === 'start_time' ? 'startTime' : 'endTime']: time }), field);
      });
    }

    it('ListStockMovements end_time beyond what a JS Date holds (raw bytes) is INVALID_ARGUMENT', async () => {
      const request = Buffer.from(ListStockMovementsRequest.encode(ListStockMovementsRequest.fromPartial({ sku: 'SKU-1' })).finish());
      const timestamp = Buffer.from(Timestamp.encode({ seconds: 9_000_000_000_000_000n, nanos: 0 }).finish());
      const bytes = Buffer.concat([request, Buffer.from([(4 << 3) | 2, timestamp.length]), timestamp]);
      const err = await sendRaw('/inventory.v1.InventoryService/ListStockMovements', bytes, false);
      expect(err.code, err.details).to.equal(status.INVALID_ARGUMENT);
      expect(err.details).to.match(/^end_time: /);
    });

    it('accepts the edges of the range', async () => {
      const page = await c.listStockMovements({ startTime: new Date('0001-01-01T00:00:00Z'), endTime: new Date('9999-12-31T23:59:59.999Z') });
      expect(page.movements.length).to.be.greaterThan(0);
    });

    it('AllocateStock ttl outside its range is INVALID_ARGUMENT', async () => {
      for (const ttl of [{ seconds: -1n, nanos: 0 }, { seconds: 9_223_372_036_854_775_807n, nanos: 999_999_999 }, { seconds: 0n, nanos: 1 }]) {
        await rejected(() => c.allocateStock({ allocationId: 'A-TTL', lines: [{ sku: 'SKU-1', warehouseCode: 'WH-1', quantity: 1n }], ttl }), 'ttl');
      }
    });
  });

  describe('page tokens', () => {
    before(async () => {
      for (const code of ['WH-3', 'WH-4']) await c.createWarehouse({ code, name: code, region: 'eu', priority: 1 });
      for (const sku of ['SKU-2', 'SKU-3']) await c.createItem({ sku, name: sku });
      await c.receiveStock({ sku: 'SKU-1', warehouseCode: 'WH-2', quantity: 1n });
      await c.receiveStock({ sku: 'SKU-1', warehouseCode: 'WH-1', quantity: 1n });
    });

    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

    it('a token from another RPC is rejected', async () => {
      const items = await c.listItems({ pageSize: 1 });
      expect(items.nextPageToken).to.not.equal('');
      await rejected(() => c.listWarehouses({ pageSize: 1, pageToken: items.nextPageToken }), 'page_token');
      const warehouses = await c.listWarehouses({ pageSize: 1 });
      await rejected(() => c.listItems({ pageSize: 1, pageToken: warehouses.nextPageToken }), 'page_token');
    });

    it('crafted cursors (NUL, 1.5, 1e300, year -200000, the old unsigned format) are rejected', async () => {
      const genuine = (await c.listWarehouses({ pageSize: 1 })).nextPageToken;
      const mac = genuine.split('.')[1]!;
      const crafted = [
        b64({ after: `WH${NUL}` }),
        `${b64({ after: `WH${NUL}` })}.${mac}`,
        `${b64({ after: 'WH-9' })}.${mac}`,
        `${genuine.split('.')[0]}.${mac.slice(0, -2)}AA`,
        `${genuine}x`,
        'garbage',
        '.',
      ];
      for (const token of crafted) await rejected(() => c.listWarehouses({ pageSize: 1, pageToken: token }), 'page_token');
      for (const token of [b64({ a: 0, s: `S${NUL}`, w: 'WH-1', f: 'x' }), `${b64({ a: 0, s: 'SKU-1', w: 'WH-1' })}.${mac}`]) {
        await rejected(() => c.listLowStock({ threshold: 100n, pageSize: 1, pageToken: token }), 'page_token');
      }
      for (const cursor of [{ t: '2020-01-01T00:00:00.000Z', id: 1.5 }, { t: '2020-01-01T00:00:00.000Z', id: 1e300 }, { t: '-200000-01-01T00:00:00.000Z', id: 1 }]) {
        await rejected(() => c.listStockMovements({ sku: 'SKU-1', pageSize: 1, pageToken: `${b64(cursor)}.${mac}` }), 'page_token');
      }
      await rejected(() => c.listItems({ pageSize: 1, pageToken: `${b64({ after: `SKU${NUL}` })}.${mac}` }), 'page_token');
    });

    it('a token is bound to its query: another filter rejects it, the same one follows it', async () => {
      const first = await c.listStockMovements({ sku: 'SKU-1', pageSize: 1 });
      await rejected(() => c.listStockMovements({ sku: 'SKU-1', warehouseCode: 'WH-1', pageSize: 1, pageToken: first.nextPageToken }), 'page_token');
      const second = await c.listStockMovements({ sku: 'SKU-1', pageSize: 1, pageToken: first.nextPageToken });
      expect(second.movements[0]!.id).to.not.equal(first.movements[0]!.id);
      const low = await c.listLowStock({ threshold: 100n, pageSize: 1 });
      await rejected(() => c.listLowStock({ threshold: 99n, pageSize: 1, pageToken: low.nextPageToken }), 'page_token');
    });
  });

  describe('malformed protobuf bytes', () => {
    const cases: Record<string, number[]> = {
      'a truncated length': [0x0a, 0x0a, 0x41, 0x42],
      'wire type 6': [0x0e, 0x01],
      'wire type 7': [0x0f],
      'an open group': [0x0b, 0x08, 0x01],
      'an 11-byte varint': [0x20, ...Array<number>(10).fill(0xff), 0x01],
    };

    for (const [name, bytes] of Object.entries(cases)) {
      it(`${name} is INVALID_ARGUMENT with one call log line (unary and streaming)`, async () => {
        for (const [path, method, streaming] of [
          ['/inventory.v1.InventoryService/CreateWarehouse', 'CreateWarehouse', false],
          ['/inventory.v1.EventService/StreamEvents', 'StreamEvents', true],
        ] as const) {
          const before = await outboxRows();
          const mark = logs.lines.length;
          const err = await sendRaw(path, Buffer.from(bytes), streaming);
          expect(err.code, err.details).to.equal(status.INVALID_ARGUMENT);
          expect(err.details).to.match(new RegExp(`^the request bytes are not a valid ${method}Request message: `));
          await new Promise((r) => setTimeout(r, 50));
          const calls = logs.lines.slice(mark).filter((l) => l.msg === 'call');
          expect(calls).to.have.length(1);
          expect(calls[0]).to.include({ method, status: 'INVALID_ARGUMENT' });
          expect(await outboxRows()).to.equal(before);
        }
      });
    }

    it('random bytes never answer INTERNAL', async () => {
      for (let i = 0; i < 50; i++) {
        const bytes = Buffer.from(Array.from({ length: 1 + (i % 17) }, (_, j) => (i * 131 + j * 71) & 0xff));
        const err = await sendRaw('/inventory.v1.InventoryService/GetWarehouse', bytes, false);
        expect([status.INVALID_ARGUMENT, status.NOT_FOUND], err.details).to.include(err.code);
      }
    });

    it('a well-formed stream request still streams', async () => {
      const events = eventClient(address);
      try {
        expect(await streamEvents(events, { streamId: 'warehouse#WH-1' })).to.have.length.greaterThan(0);
      } finally {
        events.close();
      }
    });
  });

  it('UpdateWarehouse with nothing set says that no field was set', async () => {
    const err = await failure(c.updateWarehouse({ code: 'WH-1' }));
    expect(err.code).to.equal(status.INVALID_ARGUMENT);
    expect(err.details).to.equal('nothing to update: none of name, region, priority, active is set');
  });
});
