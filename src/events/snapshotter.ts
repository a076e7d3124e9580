import type { DynamoReader } from './dynamo-reader.js';
import { replayStream } from './replay/replay-stream.js';
import type { SnapshotStore } from './snapshots.js';
import type { EventEnvelope } from './types.js';

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
 */
export class Snapshotter {
  /** Snapshots written since start-up (read by the metrics). */
  written = 0;

  constructor(
    private readonly reader: DynamoReader,
    private readonly snapshots: SnapshotStore,
    private readonly policy: SnapshotPolicy,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  due(e: EventEnvelope): boolean {
    return this.policy.every > 0 && e.version % this.policy.every === 0;
  }

  /**
   * Snapshots the stream at `version`. Throws if an event up to it is not in the store yet
   * (appended out of order by concurrent workers); the relay then retries later.
   */
  async take(streamId: string, version: number): Promise<void> {
    const existing = await this.snapshots.latest(streamId, version);
    if (existing?.version === version) {
      // Written before (a retry): make sure its events were stamped, then done.
      const previous = await this.snapshots.latest(streamId, version - 1);
      await this.stamp(streamId, previous?.version ?? 0, version);
      return;
    }
    const replayed = await replayStream(this.reader, this.snapshots, streamId, version);
    await this.snapshots.put({ streamId, version, state: replayed.state, takenAt: this.clock() });
    this.written++;
    await this.stamp(streamId, replayed.fromSnapshot, version);
  }

  private async stamp(streamId: string, afterVersion: number, upTo: number): Promise<void> {
    if (this.policy.retentionDays <= 0) return;
    const expiresAt = Math.floor(this.clock().getTime() / 1000) + this.policy.retentionDays * 86_400;
    for (let v = afterVersion + 1; v <= upTo; v++) await this.snapshots.expireEvent(streamId, v, expiresAt);
  }
}
