import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import dynalite from 'dynalite';
import type { Logger } from '../log.js';

/**
 * A real DynamoDB HTTP API (dynalite) persisted on disk, for development and tests.
 * It has no TransactWriteItems, UpdateTimeToLive, PITR or Streams; the service does not
 * depend on them.
 */
export class EmbeddedDynamo {
  private server: Server | undefined;

  constructor(private readonly options: { dataDir: string | undefined; port: number; log: Logger }) {}

  get endpoint(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('embedded dynamodb is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<void> {
    const { dataDir, port, log } = this.options;
    if (dataDir !== undefined) await fs.mkdir(dataDir, { recursive: true });
    const server = dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    log.info({ endpoint: this.endpoint, dataDir: dataDir ?? '(memory)' }, 'embedded dynamodb started');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // Let requests in flight finish first: cutting their connections while dynalite is
    // mid-query makes it read from a closed database iterator and throw. Idle keep-alive
    // connections close at once; busy ones get a moment before they are cut.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections?.();
    const cut = setTimeout(() => server.closeAllConnections?.(), 2_000);
    await closed;
    clearTimeout(cut);
    this.options.log.info('embedded dynamodb stopped');
  }
}
