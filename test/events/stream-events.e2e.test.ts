import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { expect } from 'chai';
import { Direction, StreamEventsRequest, type EventServiceClient } from '../../src/gen/inventory/v1/event_service.js';
import type { EventEnvelope } from '../../src/events/types.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually, readStream } from '../support/dynamo.js';
import { eventClient, streamEvents, waitFor } from '../support/events.js';

describe('EventService.StreamEvents (e2e)', () => {
  let t: TestApp;
  let events: EventServiceClient;
  before(async () => {
    t = await startTestApp();
    events = eventClient(t.address);
    const m = new Metadata();
    m.set('x-correlation-id', 'corr-42');
    await t.client.createWarehouse({ code: 'WH1', name: 'One', region: 'eu', priority: 1 }, m);
    for (let p = 2; p <= 6; p++) await t.client.updateWarehouse({ code: 'WH1', priority: p });
    await eventually(async () => expect(await readStream(t.table, 'warehouse#WH1')).to.have.length(6));
  });
  after(async () => {
    events.close();
    await t.stop();
  });

  it('streams a stream forward with the envelope and a typed payload', async () => {
    const got = await streamEvents(events, { streamId: 'warehouse#WH1' });
    expect(got.map((e) => e.version)).to.deep.equal([1n, 2n, 3n, 4n, 5n, 6n]);
    const first = got[0]!;
    expect(first).to.include({ streamId: 'warehouse#WH1', type: 'WarehouseCreated', schemaVersion: 1, correlationId: 'corr-42', position: 0n });
    expect(first.eventId).to.match(/^[0-9a-f-]{36}$/);
    expect(first.occurTime).to.be.instanceOf(Date);
    expect(first.payload).to.deep.equal({
      $case: 'warehouseCreated',
      value: { code: 'WH1', name: 'One', region: 'eu', priority: 1, active: true },
    });
    const update = got[1]!.payload;
    expect(update?.$case).to.equal('warehouseUpdated');
    expect(update?.value).to.deep.include({ code: 'WH1', priority: 2, name: undefined, region: undefined, active: undefined });
    // A call without x-correlation-id gets a generated one.
    expect(got[1]!.correlationId).to.match(/^[0-9a-f-]{36}$/);
  });

  it('honours from/to versions, direction and limit', async () => {
    const v = async (req: Partial<StreamEventsRequest>) =>
      (await streamEvents(events, { streamId: 'warehouse#WH1', ...req })).map((e) => Number(e.version));
    expect(await v({ fromVersion: 3n })).to.deep.equal([3, 4, 5, 6]);
    expect(await v({ fromVersion: 2n, toVersion: 4n })).to.deep.equal([2, 3, 4]);
    expect(await v({ fromVersion: 2n, limit: 2 })).to.deep.equal([2, 3]);
    expect(await v({ direction: Direction.DIRECTION_BACKWARD })).to.deep.equal([6, 5, 4, 3, 2, 1]);
    expect(await v({ direction: Direction.DIRECTION_BACKWARD, fromVersion: 5n, toVersion: 3n })).to.deep.equal([5, 4, 3]);
    expect(await v({ direction: Direction.DIRECTION_BACKWARD, limit: 1 })).to.deep.equal([6]);
    expect(await v({ fromVersion: 7n })).to.deep.equal([]);
  });

  it('yields nothing for a stream that has no events', async () => {
    expect(await streamEvents(events, { streamId: 'item#NOPE' })).to.deep.equal([]);
  });

  const bad: Array<[string, Partial<StreamEventsRequest>, string]> = [
    ['an empty stream id', { streamId: '' }, 'stream_id'],
    ['an unknown stream kind', { streamId: 'order#1' }, 'stream_id'],
    ['a malformed stock stream id', { streamId: 'stock#SKU-1' }, 'stream_id'],
    ['a negative from_version', { fromVersion: -1n }, 'from_version'],
    ['to_version below from_version', { fromVersion: 5n, toVersion: 2n }, 'to_version'],
    ['to_version above from_version backward', { fromVersion: 2n, toVersion: 5n, direction: Direction.DIRECTION_BACKWARD }, 'to_version'],
    ['an unknown direction', { direction: 7 as Direction }, 'direction'],
    ['a negative limit', { limit: -1 }, 'limit'],
  ];
  for (const [what, req, field] of bad) {
    it(`rejects ${what} with INVALID_ARGUMENT naming ${field}`, async () => {
      const err = (await streamEvents(events, { streamId: 'warehouse#WH1', ...req }).then(
        () => {
          throw new Error('expected failure');
        },
        (e: ServiceError) => e,
      ));
      expect(err.code).to.equal(status.INVALID_ARGUMENT);
      expect(err.details).to.match(new RegExp(`^${field}:`));
    });
  }

  it('reads DynamoDB only as fast as the client takes events, and stops when it cancels', async function () {
    this.timeout(120_000);
    const total = 3000;
    const big: EventEnvelope[] = [];
    const at = new Date();
    big.push({ eventId: crypto.randomUUID(), streamId: 'warehouse#BIG', version: 1, type: 'WarehouseCreated', schemaVersion: 1, correlationId: 'c', occurredAt: at, data: { code: 'BIG', name: 'Big', region: 'eu', priority: 1, active: true } });
    for (let v = 2; v <= total; v++) {
      big.push({ eventId: crypto.randomUUID(), streamId: 'warehouse#BIG', version: v, type: 'WarehouseUpdated', schemaVersion: 1, correlationId: 'c', occurredAt: at, data: { code: 'BIG', changes: { name: `name ${'x'.repeat(100)} ${v}` } } });
    }
    const { failed } = await t.app.appender.appendAll(big, 32);
    expect(failed).to.equal(0);

    const stats = t.app.events.reader.stats;
    const before = stats.items;
    const call = events.streamEvents(StreamEventsRequest.fromPartial({ streamId: 'warehouse#BIG' }));
    let received = 0;
    call.on('data', () => {
      received++;
      call.pause(); // a client that stops reading
    });
    call.on('error', () => undefined);
    await waitFor(() => received > 0, 10_000, 'the first event');
    // Let the server run until it is blocked, then check it stays blocked well short of the end.
    let last = -1;
    await waitFor(async () => {
      const now = stats.items - before;
      const stable = now === last;
      last = now;
      await new Promise((r) => setTimeout(r, 300));
      return stable;
    }, 20_000, 'the server to stop reading');
    const readWhilePaused = stats.items - before;
    expect(readWhilePaused).to.be.below(total / 2);
    call.cancel();
    await new Promise((r) => setTimeout(r, 300));
    expect(stats.items - before).to.be.below(total / 2);

    // A reader that keeps up gets every event, in order.
    const all = await streamEvents(events, { streamId: 'warehouse#BIG' });
    expect(all).to.have.length(total);
    expect(all.every((e, i) => e.version === BigInt(i + 1))).to.equal(true);
  });
});
