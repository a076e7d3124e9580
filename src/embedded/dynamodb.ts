import fs from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import dynalite from 'dynalite';
import type { Logger } from '../log.js';
import { EmbeddedInUseError, liveOwner, removeOwner, writeOwner } from './owner.js';

/**
 * A real DynamoDB HTTP API (dynalite) persisted on disk, for development and tests.
 * It has no TransactWriteItems, UpdateTimeToLive, PITR or Streams; the service does not
 * depend on them.
 */
export class EmbeddedDynamo {
  private server: Server | undefined;
  private inFlight = 0;
  private stopping = false;

  constructor(private readonly options: { dataDir: string | undefined; port: number; log: Logger }) {}

  get endpoint(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('embedded dynamodb is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<void> {
    const { dataDir, port, log } = this.options;
    if (dataDir !== undefined) {
      const owner = await liveOwner(dataDir);
      if (owner !== undefined) throw new EmbeddedInUseError('DynamoDB API', dataDir, owner);
      await fs.mkdir(dataDir, { recursive: true });
    }
    const server = dynalite({ path: dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
    this.stopping = false;
    this.inFlight = 0;
    server.on('request', (_req, res) => {
      this.inFlight++;
      res.once('close', () => {
        this.inFlight--;
        // Cut the keep-alive connections only between requests (see stop()).
        if (this.stopping && this.inFlight === 0) server.closeAllConnections?.();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    if (dataDir !== undefined) await writeOwner(dataDir, this.endpoint);
    log.info({ endpoint: this.endpoint, dataDir: dataDir ?? '(memory)' }, 'embedded dynamodb started');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // dynalite closes its database once the HTTP server has closed. Cutting a connection
    // while its request is still reading the database makes dynalite read from a closed
    // iterator and throw, so connections are cut only at a moment when no request is in
    // flight (the request listener above), with a last-resort timer.
    this.stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.inFlight === 0) server.closeAllConnections?.();
    const cut = setTimeout(() => server.closeAllConnections?.(), 10_000);
    await closed;
    clearTimeout(cut);
    if (this.options.dataDir !== undefined) await removeOwner(this.options.dataDir);
    this.options.log.info('embedded dynamodb stopped');
  }
}
