import pg from 'pg';

/** Session advisory lock key of the auditor: one holder in the whole fleet. */
export const AUDITOR_LOCK_KEY = 727_274_003;

/**
 * Leadership for a fleet-wide background job through a PostgreSQL session advisory lock,
 * held on a connection of its own: when the holder dies or its connection is cut, the
 * server releases the lock, and the next instance that asks takes over. No lease times to
 * tune and no clock to trust.
 */
export class AdvisoryLease {
  private client: pg.Client | undefined;
  private held = false;

  constructor(
    private readonly url: string,
    private readonly key: number,
    private readonly connectTimeoutMs: number,
  ) {}

  get isHeld(): boolean {
    return this.held;
  }

  /** True when this instance holds the lock (taking it if it is free). Never throws. */
  async acquire(): Promise<boolean> {
    if (this.held && this.client !== undefined) return true;
    try {
      if (this.client === undefined) {
        const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.connectTimeoutMs });
        client.on('error', () => this.drop());
        client.on('end', () => this.drop());
        await client.connect();
        this.client = client;
      }
      const res = await this.client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [this.key]);
      this.held = res.rows[0]?.ok === true;
    } catch {
      await this.release();
    }
    return this.held;
  }

  private drop(): void {
    this.held = false;
    this.client = undefined;
  }

  /** Gives the lock up (closing the connection releases it). */
  async release(): Promise<void> {
    const client = this.client;
    this.drop();
    await client?.end().catch(() => undefined);
  }
}
