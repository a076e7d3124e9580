import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { TransactWriteItemsCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createEmbeddedDynamo, resolveEmbeddedDynamo } from '../src/embedded/dynamodb-choice.js';
import { createDynamoClient, DynamoAppender, toItem } from '../src/events/dynamo-appender.js';
import { ensureEventTable } from '../src/events/table-check.js';
import { BATCH_LIMIT } from '../src/events/batched-inserts.js';
import { KEY } from '../src/events/dynamo-schema.js';
import type { EventEnvelope } from '../src/events/types.js';
import { createLogger } from '../src/log.js';

/**
 * `make bench-append`: conditional appends to the event table on DynamoDB Local, events per
 * second and this process's CPU per event (the client side: the AWS SDK's signing,
 * serialisation and parsing), for
 *   - one conditional PutItem per event, 16 in flight (the relay before batching);
 *   - the relay's batched path (DynamoAppender.appendAll: PartiQL BatchExecuteStatement of
 *     25 INSERTs, 4 batches in flight), for new events and for events already stored;
 *   - TransactWriteItems of 25 conditional puts, 4 in flight (the alternative, for comparison).
 *
 *   BENCH_EVENTS (default 5000) events per run
 */
const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const log = createLogger('warn');

function events(n: number): EventEnvelope[] {
  // 10 versions per stream, like a burst of writes over many skus.
  return Array.from({ length: n }, (_, i) => ({
    eventId: randomUUID(),
    streamId: `stock#SKU-${String(Math.floor(i / 10)).padStart(6, '0')}#BER-1`,
    version: (i % 10) + 1,
    type: 'StockAllocated' as const,
    schemaVersion: 1,
    correlationId: randomUUID(),
    occurredAt: new Date(),
    data: { sku: 'SKU', warehouseCode: 'BER-1', onHandDelta: 0, allocatedDelta: 1, onHand: 100, allocated: i % 10, movementId: i, allocationId: `a-${i}` } as never,
  }));
}

async function inParallel<T>(items: readonly T[], inFlight: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(inFlight, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

async function transactAll(client: DynamoDBClient, table: string, batch: readonly EventEnvelope[]): Promise<void> {
  const chunks: EventEnvelope[][] = [];
  for (let i = 0; i < batch.length; i += BATCH_LIMIT) chunks.push(batch.slice(i, i + BATCH_LIMIT));
  await inParallel(chunks, 4, async (chunk) => {
    await client.send(
      new TransactWriteItemsCommand({
        TransactItems: chunk.map((e) => ({
          Put: { TableName: table, Item: toItem(e), ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': KEY.partition } },
        })),
      }),
    );
  });
}

interface Mode {
  readonly name: string;
  run(appender: DynamoAppender, batch: readonly EventEnvelope[]): Promise<void>;
}

const modes: Mode[] = [
  { name: 'PutItem, one per event', run: (a, b) => inParallel(b, 16, (e) => a.append(e)) },
  {
    name: 'BatchExecuteStatement x25 (relay)',
    run: async (a, b) => {
      const { failed } = await a.appendAll(b);
      if (failed > 0) throw new Error(`${failed} events failed`);
    },
  },
  { name: 'TransactWriteItems x25', run: (a, b) => transactAll(a.client, a.table, b) },
];

async function measure(name: string, work: () => Promise<void>, n: number): Promise<{ perSecond: number; cpuUsPerEvent: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const r = { perSecond: n / seconds, cpuUsPerEvent: (cpu.user + cpu.system) / n };
  process.stdout.write(`  ${name.padEnd(44)} ${String(Math.round(r.perSecond)).padStart(7)} events/s  ${r.cpuUsPerEvent.toFixed(1).padStart(7)} µs client CPU/event\n`);
  return r;
}

async function main(): Promise<void> {
  const kind = await resolveEmbeddedDynamo((process.env.EMBEDDED_DYNAMODB ?? 'dynamodb-local') as 'dynamodb-local', log);
  const dynamo = await createEmbeddedDynamo(kind, { dataDir: undefined, port: 0, log, jit: 'throughput' });
  await dynamo.start();
  const client = createDynamoClient({ endpoint: dynamo.endpoint, region: 'us-east-1', table: '' });
  try {
    const table = (name: string) => new DynamoAppender(client, `bench-append-${name}-${Date.now()}`, log);
    process.stdout.write(`${EVENTS} events per run on ${kind}, ${os.cpus().length} cpus, load average ${os.loadavg()[0]!.toFixed(1)}\nwarming up...\n`);
    for (const mode of modes) {
      const a = table('warmup');
      await ensureEventTable(a.client, a.table, log);
      await mode.run(a, events(Math.min(EVENTS, 2000)));
    }
    const results = [];
    for (const mode of modes) {
      const a = table(mode.name.split(',')[0]!.split(' ')[0]!);
      await ensureEventTable(a.client, a.table, log);
      const batch = events(EVENTS);
      results.push(await measure(mode.name, () => mode.run(a, batch), EVENTS));
      if (mode === modes[1]) await measure('  the same events again (all already stored)', () => mode.run(a, batch), EVENTS);
    }
    const [put, batched, transact] = results as [typeof results[0], typeof results[0], typeof results[0]];
    process.stdout.write(
      `\nbatched / PutItem: ${(batched.perSecond / put.perSecond).toFixed(2)}x events/s, ${(put.cpuUsPerEvent / batched.cpuUsPerEvent).toFixed(1)}x less client CPU per event` +
        `\nBatchExecuteStatement / TransactWriteItems: ${(batched.perSecond / transact.perSecond).toFixed(2)}x events/s, client CPU ${(batched.cpuUsPerEvent / transact.cpuUsPerEvent).toFixed(2)}x` +
        `\nload average ${os.loadavg()[0]!.toFixed(1)}\n`,
    );
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
