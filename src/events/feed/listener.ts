import pg from 'pg';
import type { Logger } from '../../log.js';
import { FEED_CHANNEL } from './sequencer.js';
import type { FeedSignal } from './signal.js';

/**
 * LISTENs for positions handed out by any instance's sequencer and advances the local
 * FeedSignal. It is only a shortcut: the tail reader also polls, so a lost connection
 * delays live events by at most the poll interval. Reconnects with a backoff.
 */
export class FeedListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly url: string,
    private readonly signal: FeedSignal,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect().catch((err: Error) => {
      this.log.warn({ err: err.message }, 'feed LISTEN connection failed; the feed tail polls until it is back');
      this.reconnectLater();
    });
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => {
      if (msg.channel === FEED_CHANNEL && msg.payload !== undefined) this.signal.notified(Number(msg.payload));
    });
    client.on('error', (err) => {
      this.log.warn({ err: err.message }, 'feed LISTEN connection lost');
      this.drop(client);
    });
    client.on('end', () => this.drop(client));
    await client.connect();
    await client.query(`LISTEN ${FEED_CHANNEL}`);
    if (this.stopped) {
      await client.end();
      return;
    }
    this.client = client;
  }

  private drop(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    this.reconnectLater();
  }

  private reconnectLater(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect().catch(() => this.reconnectLater());
    }, 1000);
    this.retry.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
