/**
 * StreamEvents backpressure benchmark (run by hand: `make bench-stream`, or
 * `BENCH_EVENTS=20000 node dist/bench/stream-backpressure.js`).
 *
 * Writes one stream of BENCH_EVENTS events (default 100,000) into a fresh event table, then
 * streams it twice through the real server: to a fast client, and to a slow one that takes
 * about BENCH_SLOW_RATE events per second. While streaming it samples the heap and how far
 * the server's DynamoDB reads run ahead of what the client has received. With working
 * backpressure the read-ahead stays bounded (a few pages plus the HTTP/2 windows) and the
 * heap stays flat however long the stream; it prints the numbers and their ratios.
 */
import { randomUUID } from 'node:crypto';
import { credentials } from '@grpc/grpc-js';
import { EventServiceClient, StreamEventsRequest } from '../src/gen/inventory/v1/event_service.js';
import type { EventEnvelope } from '../src/events/types.js';
import { startTestApp } from '../test/support/app.js';
import { startStack, stopStack } from '../test/support/stack.js';

const total = Number(process.env.BENCH_EVENTS ?? 100_000);
const slowRate = Number(process.env.BENCH_SLOW_RATE ?? 5000);
const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;

async function main(): Promise<void> {
  await startStack();
  const t = await startTestApp({ LOG_LEVEL: 'silent' });
  try {
    process.stdout.write(`writing ${total} events to warehouse#BENCH ...\n`);
    const at = new Date();
    const batch: EventEnvelope[] = [];
    const flush = async () => {
      const { failed } = await t.app.appender.appendAll(batch.splice(0), 32);
      if (failed > 0) throw new Error(`${failed} appends failed`);
    };
    for (let v = 1; v <= total; v++) {
      batch.push(
        v === 1
          ? { eventId: randomUUID(), streamId: 'warehouse#BENCH', version: 1, type: 'WarehouseCreated', schemaVersion: 1, correlationId: 'bench', occurredAt: at, data: { code: 'BENCH', name: 'Bench', region: 'eu', priority: 1, active: true } }
          : { eventId: randomUUID(), streamId: 'warehouse#BENCH', version: v, type: 'WarehouseUpdated', schemaVersion: 1, correlationId: 'bench', occurredAt: at, data: { code: 'BENCH', changes: { name: `name ${v} ${'x'.repeat(80)}` } } },
      );
      if (batch.length === 2000) await flush();
    }
    await flush();

    const client = new EventServiceClient(t.address, credentials.createInsecure());
    const stats = t.app.events.reader.stats;
    const run = (slow: boolean) =>
      new Promise<{ ms: number; maxAheadEvents: number; heapStartMb: number; heapMaxMb: number; received: number }>((resolve, reject) => {
        global.gc?.();
        const readBefore = stats.items;
        const heapStart = process.memoryUsage().heapUsed;
        let heapMax = heapStart;
        let maxAhead = 0;
        let received = 0;
        const started = Date.now();
        const sampler = setInterval(() => {
          heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
          maxAhead = Math.max(maxAhead, stats.items - readBefore - received);
        }, 100);
        const call = client.streamEvents(StreamEventsRequest.fromPartial({ streamId: 'warehouse#BENCH' }));
        const chunk = Math.max(1, Math.round(slowRate / 50));
        call.on('data', () => {
          received++;
          if (slow && received % chunk === 0) {
            call.pause();
            setTimeout(() => call.resume(), 20);
          }
        });
        call.on('error', reject);
        call.on('end', () => {
          clearInterval(sampler);
          resolve({ ms: Date.now() - started, maxAheadEvents: maxAhead, heapStartMb: mb(heapStart), heapMaxMb: mb(heapMax), received });
        });
      });
    const fast = await run(false);
    const slow = await run(true);
    client.close();
    const line = (name: string, r: typeof fast) =>
      `${name}: ${r.received} events in ${(r.ms / 1000).toFixed(1)} s; server read-ahead at most ${r.maxAheadEvents} events; heap ${r.heapStartMb} -> max ${r.heapMaxMb} MB`;
    process.stdout.write(`${line('fast client', fast)}\n${line('slow client', slow)}\n`);
    process.stdout.write(
      `ratios (slow / fast): duration ${(slow.ms / fast.ms).toFixed(2)}, heap growth ${((slow.heapMaxMb - slow.heapStartMb) / Math.max(0.1, fast.heapMaxMb - fast.heapStartMb)).toFixed(2)}; ` +
        `slow read-ahead / stream length ${(slow.maxAheadEvents / total).toFixed(4)}\n`,
    );
  } finally {
    await t.stop();
    await stopStack();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
