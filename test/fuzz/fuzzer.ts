import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import pg from 'pg';
import { fieldNames, type Rpc } from './requests.js';

export interface Outcome {
  readonly code: status;
  readonly details: string;
}

const identity = (b: Buffer) => b;

/** One call with raw request bytes; resolves with its final status (streams: read to the end). */
export function send(client: Client, rpc: Rpc, bytes: Uint8Array, deadlineMs: number): Promise<Outcome> {
  const buffer = Buffer.from(bytes);
  // SubscribeEvents never ends by itself: read it for a moment.
  const deadline = Date.now() + (rpc.name === 'SubscribeEvents' ? Math.min(deadlineMs, 300) : deadlineMs);
  return new Promise((resolve) => {
    if (rpc.streaming) {
      const call = client.makeServerStreamRequest(rpc.path, identity, identity, buffer, new Metadata(), { deadline });
      call.on('data', () => undefined);
      call.on('error', () => undefined);
      call.on('status', (s: { code: status; details: string }) => resolve({ code: s.code, details: s.details }));
    } else {
      client.makeUnaryRequest(rpc.path, identity, identity, buffer, new Metadata(), { deadline }, (err) =>
        resolve(err ? { code: err.code, details: err.details } : { code: status.OK, details: '' }),
      );
    }
  });
}

/** Everything a write can change, in one row: a rejected write must leave it equal. */
const STATE = `select
  (select count(*) from event_outbox) as events,
  (select count(*) || ':' || coalesce(sum(version), 0) from warehouse) as warehouses,
  (select count(*) || ':' || coalesce(sum(version), 0) from item) as items,
  (select count(*) || ':' || coalesce(sum(version), 0) || ':' || coalesce(sum(on_hand), 0) || ':' || coalesce(sum(allocated), 0) || ':' || coalesce(sum(damaged + quality_control + safety_stock), 0) from stock_level) as levels,
  (select count(*) from stock_movement) as movements,
  (select count(*) || ':' || coalesce(sum(version), 0) from allocation) as allocations,
  (select count(*) from idempotency_record) as keys,
  (select count(*) || ':' || coalesce(sum(version), 0) from incoming_stock) as incoming`;

/** Outcomes after which nothing may have changed (a timed-out or cut call may have committed). */
const DEFINITE_FAILURES = new Set([status.INVALID_ARGUMENT, status.NOT_FOUND, status.ALREADY_EXISTS, status.FAILED_PRECONDITION, status.ABORTED, status.OUT_OF_RANGE]);

/** Calls the service and judges each outcome by the rules of the issue. */
export class Fuzzer {
  readonly counts = new Map<string, number>();
  readonly problems: string[] = [];
  calls = 0;
  private readonly client: Client;
  private db: pg.Client | undefined;
  /**
   * A call the client gave up on (a 1 ms deadline) may still commit on the server, during
   * a later call: until the state has settled, a change would be blamed on the wrong call.
   */
  private unsettled = false;

  constructor(
    address: string,
    private readonly databaseUrl: string | undefined,
  ) {
    this.client = new Client(address, credentials.createInsecure(), { 'grpc.max_send_message_length': 16 * 1024 * 1024 });
  }

  async open(): Promise<void> {
    if (this.databaseUrl === undefined) return;
    this.db = new pg.Client({ connectionString: this.databaseUrl });
    await this.db.connect();
  }

  async close(): Promise<void> {
    this.client.close();
    await this.db?.end();
  }

  private async state(): Promise<string> {
    return JSON.stringify((await this.db!.query(STATE)).rows[0]);
  }

  /** Waits (at most 15 s) until no other session is busy and the state stays put for 300 ms. */
  private async settle(): Promise<void> {
    const until = Date.now() + 15_000;
    let last = await this.state();
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 300));
      const busy = await this.db!.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and state in ('active', 'idle in transaction')`,
      );
      const now = await this.state();
      if (now === last && busy.rows[0]?.n === 0) return;
      last = now;
    }
  }

  /** Sends one call; returns the problem found, if any (also recorded). */
  async call(rpc: Rpc, bytes: Uint8Array, deadlineMs: number, raw: boolean): Promise<string | undefined> {
    const watchState = rpc.writes && this.db !== undefined && deadlineMs > 1;
    if (watchState && this.unsettled) {
      await this.settle();
      this.unsettled = false;
    }
    const before = watchState ? await this.state() : undefined;
    const outcome = await send(this.client, rpc, bytes, deadlineMs);
    if (outcome.code === status.DEADLINE_EXCEEDED || outcome.code === status.CANCELLED) this.unsettled = true;
    this.calls++;
    const key = `${raw ? 'raw ' : ''}${status[outcome.code]}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    let problem = judge(rpc, outcome, raw);
    if (problem === undefined && before !== undefined && DEFINITE_FAILURES.has(outcome.code)) {
      const after = await this.state();
      if (after !== before) problem = `${status[outcome.code]} but the state changed: ${before} -> ${after}`;
    }
    if (problem !== undefined) {
      const line = `${rpc.name}${raw ? ' (raw)' : ''}: ${problem} [bytes ${Buffer.from(bytes).toString('hex').slice(0, 200)}]`;
      this.problems.push(line);
      return line;
    }
    return undefined;
  }
}

/** Never INTERNAL or UNKNOWN; every INVALID_ARGUMENT names a field of the request. */
export function judge(rpc: Rpc, outcome: Outcome, raw: boolean): string | undefined {
  if (outcome.code === status.INTERNAL || outcome.code === status.UNKNOWN) return `${status[outcome.code]}: ${outcome.details}`;
  if (outcome.code !== status.INVALID_ARGUMENT) return undefined;
  const d = outcome.details;
  if (raw && d.startsWith(`the request bytes are not a valid ${rpc.name}Request message`)) return undefined;
  if (rpc.name === 'UpdateWarehouse' && d.startsWith('nothing to update: ')) return undefined;
  const head = d.split(':')[0] ?? '';
  const segments = head.split(/[.[\]0-9]+/).filter((s) => s !== '');
  const known = fieldNames(rpc.input);
  if (segments.length === 0 || !segments.every((s) => known.has(s))) return `INVALID_ARGUMENT without a field of ${rpc.input.name}: ${d}`;
  return undefined;
}
