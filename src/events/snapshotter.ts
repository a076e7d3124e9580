import type { DynamoReader } from './dynamo-reader.js';
import { projections } from './projections/index.js';
import type { Versioned } from './projections/projection.js';
import { continueReplay, replayStream } from './replay/replay-stream.js';
import type { SnapshotStore } from './snapshots.js';
import { parseStreamId } from './streams.js';
import type { EventEnvelope } from './types.js';

/** Events kept in memory for the next snapshots, the newest (about 1.6 KB of heap each: 8 MB in all). */
export const RECENT_EVENTS = 5_000;
/** Streams whose newest snapshot state is kept in memory. */
export const REMEMBERED_STREAMS = 1_000;

const eventKey = (streamId: string, version: number) => `${streamId}\u0000${version}`;

export interface SnapshotPolicy {
  /** Snapshot after every N-th event of a stream; 0 = never. */
  readonly every: number;
  /** Days an event is kept once a snapshot covers it; 0 = forever (no TTL attribute). */
  readonly retentionDays: number;
}

/**
 * Takes the snapshots the relay asks for. The state comes from the event store itself
 * (the previous snapshot plus the events after it, through the same projection replay
 * uses), not from PostgreSQL, which may already be further ahead.
 *
 * Only events a snapshot covers get the TTL attribute: an event whose predecessors could
 * expire before a snapshot covers them would leave a stream that cannot be replayed. So
 * when the snapshot at version V is written, events (previous snapshot, V] are stamped with
 * `expiresAt` = now + retention; events after the newest snapshot never expire.
 *
 * A hot stream needs a snapshot every N events, and reading those N events back from
 * DynamoDB cost as much as appending them. So the snapshotter remembers the state of the
 * last snapshot it took of a stream, and the relay hands it every event DynamoDB confirmed
 * stored (`stored`): when the next snapshot is due and every event since the remembered one
 * is still in memory, the state is continued from them, through the same replay checks,
 * without a read. Anything missing (an event appended by another instance, or gone from the
 * bounded memory) and the snapshot is replayed from the store as before.
 */
export class Snapshotter {
  /** Snapshots written since start-up (read by the metrics). */
  written = 0;
  /** Of those, continued from memory without reading the stream back (tests, benches). */
  continuedInMemory = 0;
  /** Events DynamoDB confirmed, newest last, at most RECENT_EVENTS. */
  private readonly recent = new Map<string, EventEnvelope>();
  /** The newest snapshot state this instance took, per stream (least recently used first). */
  private readonly remembered = new Map<string, { version: number; state: Versioned }>();

  constructor(
    private readonly reader: DynamoReader,
    private readonly snapshots: SnapshotStore,
    private readonly policy: SnapshotPolicy,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  due(e: EventEnvelope): boolean {
    return this.policy.every > 0 && e.version % this.policy.every === 0;
  }

  /** Events DynamoDB confirmed stored, exactly as stored (the relay's appends). */
  stored(events: readonly EventEnvelope[]): void {
    if (this.policy.every <= 0) return;
    for (const e of events) this.recent.set(eventKey(e.streamId, e.version), e);
    for (const key of this.recent.keys()) {
      if (this.recent.size <= RECENT_EVENTS) break;
      this.recent.delete(key);
    }
  }

  /**
   * Snapshots the stream at `version`. Throws if an event up to it is not in the store yet
   * (appended out of order by concurrent workers); the relay then retries later.
   */
  async take(streamId: string, version: number): Promise<void> {
    if (await this.continueInMemory(streamId, version)) return;
    const existing = await this.snapshots.latest(streamId, version);
    if (existing?.version === version) {
      // Written before (a retry): make sure its events were stamped, then done.
      const previous = await this.snapshots.latest(streamId, version - 1);
      await this.stamp(streamId, previous?.version ?? 0, version);
      const ref = parseStreamId(streamId);
      if (ref !== undefined) this.remember(streamId, version, projections[ref.kind].revive(existing.state, streamId));
      return;
    }
    const replayed = await replayStream(this.reader, this.snapshots, streamId, version);
    await this.snapshots.put({ streamId, version, state: replayed.state, takenAt: this.clock() });
    this.written++;
    await this.stamp(streamId, replayed.fromSnapshot, version);
    if (replayed.state !== undefined) this.remember(streamId, version, replayed.state);
  }

  /**
   * The snapshot at `version` continued from the remembered state and the events in memory;
   * false (nothing written) when one of them is missing. The snapshot item may exist
   * already (a retry, another instance): it is written again with the same state.
   */
  private async continueInMemory(streamId: string, version: number): Promise<boolean> {
    const from = this.remembered.get(streamId);
    const ref = parseStreamId(streamId);
    if (from === undefined || from.version >= version || ref === undefined) return false;
    const events: EventEnvelope[] = [];
    for (let v = from.version + 1; v <= version; v++) {
      const e = this.recent.get(eventKey(streamId, v));
      if (e === undefined) return false;
      events.push(e);
    }
    let out;
    try {
      out = await continueReplay(streamId, ref, from.state, from.version, true, events);
    } catch {
      return false; // the store has the last word: replayed from it, the error (if any) is its own
    }
    if (out.state === undefined || out.version !== version) return false;
    await this.snapshots.put({ streamId, version, state: out.state, takenAt: this.clock() });
    this.written++;
    this.continuedInMemory++;
    // Every event up to `version` is covered now, those after the remembered snapshot included.
    await this.stamp(streamId, from.version, version);
    this.remember(streamId, version, out.state);
    return true;
  }

  private remember(streamId: string, version: number, state: Versioned): void {
    const known = this.remembered.get(streamId);
    if (known !== undefined && known.version >= version) return; // a later one was taken meanwhile
    this.remembered.delete(streamId);
    this.remembered.set(streamId, { version, state });
    if (this.remembered.size > REMEMBERED_STREAMS) this.remembered.delete(this.remembered.keys().next().value!);
  }

  private async stamp(streamId: string, afterVersion: number, upTo: number): Promise<void> {
    if (this.policy.retentionDays <= 0) return;
    const expiresAt = Math.floor(this.clock().getTime() / 1000) + this.policy.retentionDays * 86_400;
    for (let v = afterVersion + 1; v <= upTo; v++) await this.snapshots.expireEvent(streamId, v, expiresAt);
  }
}
