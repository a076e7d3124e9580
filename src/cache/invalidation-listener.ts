import pg from 'pg';
import type { Logger } from '../log.js';
import type { ReadCache } from './read-cache.js';

/**
 * The channel the database notifies on. A trigger on `event_outbox` (migration
 * Migration20261126000001CacheNotify) sends one notification per recorded event, with the
 * event's stream id as payload, from inside the writing transaction: PostgreSQL delivers
 * it when, and only if, that transaction commits. An operator can drop every instance's
 * cache with `NOTIFY inventory_cache, '*'`.
 */
export const CACHE_CHANNEL = 'inventory_cache';
export const CLEAR_ALL = '*';

export interface InvalidationListenerOptions {
  readonly url: string;
  readonly connectTimeoutMs: number;
  /** A `select 1` every this often; no answer within the same time counts as a lost connection. */
  readonly heartbeatMs: number;
  readonly log: Logger;
  /** Reconnect back-off bounds. */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
}

/**
 * Keeps one dedicated connection LISTENing on the cache channel and turns notifications
 * into cache invalidations, across every instance of the service.
 *
 * The cache is active only while this connection is known to be good. When it fails
 * (error, end, or a heartbeat that gets no answer) the cache is cleared and bypassed, and
 * the listener reconnects with back-off; once LISTEN is in place again the cache is cleared
 * once more (notifications sent while we were away are lost) and turned back on. So a
 * lost connection costs hit rate, never freshness.
 */
export class InvalidationListener {
  private client: pg.Client | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private notifications = 0;

  constructor(
    private readonly cache: ReadCache,
    private readonly options: InvalidationListenerOptions,
  ) {}

  /** Whether the LISTEN connection is up (and so the cache is active). */
  get listening(): boolean {
    return this.client !== undefined && this.cache.active;
  }

  get received(): number {
    return this.notifications;
  }

  /**
   * Makes the first attempt. If it fails the service still starts, with the cache
   * bypassed, and the listener keeps retrying in the background.
   */
  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.heartbeatTimer);
    const client = this.client;
    this.client = undefined;
    this.cache.suspend();
    if (client !== undefined) await withTimeout(client.end(), 2000).catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const { url, connectTimeoutMs, log } = this.options;
    const client = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: connectTimeoutMs,
      keepAlive: true,
      application_name: 'inventory-cache-listener',
    });
    this.client = client;
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection closed')));
    client.on('notification', (msg) => {
      if (msg.channel !== CACHE_CHANNEL || this.client !== client) return;
      this.notifications++;
      const payload = msg.payload ?? CLEAR_ALL;
      if (payload === CLEAR_ALL) this.cache.clear();
      else this.cache.invalidateStream(payload);
    });
    try {
      await client.connect();
      await withTimeout(client.query(`listen ${CACHE_CHANNEL}`), connectTimeoutMs);
    } catch (err) {
      this.lost(client, err as Error);
      return;
    }
    if (this.client !== client) return; // lost while we were setting up
    if (this.failures > 0) log.warn({ after: this.failures }, 'cache invalidation feed is back; cache on again');
    this.failures = 0;
    // Only now: every commit from here on will be notified to us.
    this.cache.resume();
    this.scheduleHeartbeat(client);
  }

  private scheduleHeartbeat(client: pg.Client): void {
    const { heartbeatMs } = this.options;
    this.heartbeatTimer = setTimeout(() => {
      if (this.client !== client) return;
      withTimeout(client.query('select 1'), heartbeatMs).then(
        () => this.client === client && this.scheduleHeartbeat(client),
        (err: Error) => this.lost(client, err),
      );
    }, heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearTimeout(this.heartbeatTimer);
    this.cache.suspend();
    client.removeAllListeners('notification');
    client.on('error', () => undefined); // the dying connection may still complain
    void withTimeout(client.end(), 2000).catch(() => undefined);
    if (this.stopped) return;
    const min = this.options.retryMinMs ?? 100;
    const max = this.options.retryMaxMs ?? 5000;
    const delay = Math.min(max, min * 2 ** Math.min(this.failures, 16));
    this.failures++;
    this.options.log.warn(
      { err: err.message, retryInMs: delay, attempt: this.failures },
      'cache invalidation feed lost; cache cleared and bypassed until it is back',
    );
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
