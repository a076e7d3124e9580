import { Worker } from 'node:worker_threads';
import type { Logger } from '../log.js';
import type { DynamoSettings } from './dynamo-appender.js';
import type { EventEnvelope } from './types.js';

export interface AppendWorkerData {
  readonly dynamo: DynamoSettings;
  readonly logLevel: string;
}
export interface AppendWorkerRequest {
  readonly id: number;
  readonly events: readonly EventEnvelope[];
}
export type AppendWorkerReply = { id: number; done: string[]; failed: number } | { id: number; error: string };

/**
 * `DynamoAppender.appendAll` on a worker thread (append-worker.ts), so the SDK's work per
 * request (marshalling, signing, HTTP) leaves the gRPC event loop. A worker that dies fails
 * the appends in flight (they stay in the outbox; the sweep retries) and is started again.
 */
export class WorkerAppender {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: { done: string[]; failed: number }) => void; reject: (e: Error) => void }>();
  private closed = false;

  constructor(
    private readonly data: AppendWorkerData,
    private readonly log: Logger,
  ) {}

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(new URL('./append-worker.js', import.meta.url), { workerData: this.data });
    worker.unref();
    worker.on('message', (reply: AppendWorkerReply) => {
      const p = this.pending.get(reply.id);
      if (p === undefined) return;
      this.pending.delete(reply.id);
      if ('error' in reply) p.reject(new Error(reply.error));
      else p.resolve({ done: reply.done, failed: reply.failed });
    });
    const gone = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (!this.closed) this.log.warn({ err: err.message }, 'event append worker ended; the next append starts another');
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`event append worker exited with ${code}`)));
    this.worker = worker;
    return worker;
  }

  appendAll(events: readonly EventEnvelope[]): Promise<{ done: string[]; failed: number }> {
    if (this.closed) return Promise.reject(new Error('event append worker closed'));
    const worker = this.started();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref(); // a request in flight keeps the process alive, as a socket would
      worker.postMessage({ id, events } satisfies AppendWorkerRequest);
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref();
    }) as Promise<{ done: string[]; failed: number }>;
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}
