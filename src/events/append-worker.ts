import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../log.js';
import { createDynamoClient, DynamoAppender } from './dynamo-appender.js';
import type { EventEnvelope } from './types.js';
import type { AppendWorkerData, AppendWorkerReply, AppendWorkerRequest } from './worker-appender.js';

/**
 * The relay's DynamoDB appends on a worker thread (RELAY_APPEND_WORKER): its own client and
 * appender, the same batched conditional writes; the main thread sends envelopes and gets
 * back which were stored.
 */
const data = workerData as AppendWorkerData;
const log = createLogger(data.logLevel, { thread: 'append-worker' });
const appender = new DynamoAppender(createDynamoClient(data.dynamo), data.dynamo.table, log);

parentPort!.on('message', (req: AppendWorkerRequest) => {
  appender.appendAll(req.events as EventEnvelope[]).then(
    (r) => parentPort!.postMessage({ id: req.id, done: r.done, failed: r.failed } satisfies AppendWorkerReply),
    (err: unknown) => parentPort!.postMessage({ id: req.id, error: (err as Error).message } satisfies AppendWorkerReply),
  );
});
