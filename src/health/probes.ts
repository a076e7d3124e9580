import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import pg from 'pg';
import { KEY } from '../events/dynamo-schema.js';

/** One dependency check: resolves when the dependency answered, rejects with its error otherwise. */
export interface Probe {
  check(): Promise<void>;
  close(): Promise<void>;
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(Object.assign(new Error(`${what} did not answer within ${ms} ms`), { code: 'ETIMEDOUT' }));
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `select 1` on a connection of its own, outside the pool: a pool busy with calls does not
 * make the database look down, and a broken pool connection is replaced by the pool itself
 * (the failures calls see also kick this probe). The connection is reopened after any failure.
 */
export class PostgresProbe implements Probe {
  private client: pg.Client | undefined;

  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
  ) {}

  async check(): Promise<void> {
    const drop = () => {
      const c = this.client;
      this.client = undefined;
      c?.end().catch(() => undefined);
    };
    try {
      await withTimeout(this.query(), this.timeoutMs, 'PostgreSQL', drop);
    } catch (err) {
      drop();
      throw err;
    }
  }

  private async query(): Promise<void> {
    if (this.client === undefined) {
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.timeoutMs, application_name: 'inventory-health' });
      client.on('error', () => undefined); // a dead connection is noticed by the next check
      this.client = client;
      await client.connect();
    }
    await this.client.query('select 1');
  }

  async close(): Promise<void> {
    await this.client?.end().catch(() => undefined);
    this.client = undefined;
  }
}

/** A GetItem of a key no event has: reaches the event table, costs half a read unit. */
export class DynamoProbe implements Probe {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    private readonly timeoutMs: number,
  ) {}

  async check(): Promise<void> {
    const abort = new AbortController();
    const read = this.client.send(
      new GetItemCommand({ TableName: this.table, Key: { [KEY.partition]: { S: 'health#probe' }, [KEY.sort]: { N: '0' } } }),
      { abortSignal: abort.signal },
    );
    await withTimeout(read, this.timeoutMs, 'the event table', () => abort.abort());
  }

  async close(): Promise<void> {}
}
