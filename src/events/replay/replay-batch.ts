import type { DynamoReader } from '../dynamo-reader.js';
import { ReplayError } from '../projections/projection.js';
import type { SnapshotStore } from '../snapshots.js';
import { mapLimit } from './progress.js';
import { replayStream, type ReplayedStream } from './replay-stream.js';

export type ReplayOutcome = { ok: true; stream: ReplayedStream } | { ok: false; streamId: string; problem: string };

/** Replays a batch of streams, a few at a time; a broken stream is an outcome, not an exception. */
export function replayBatch(
  reader: DynamoReader,
  snapshots: SnapshotStore,
  streamIds: readonly string[],
  concurrency: number,
): Promise<ReplayOutcome[]> {
  return mapLimit(streamIds, concurrency, async (streamId): Promise<ReplayOutcome> => {
    try {
      return { ok: true, stream: await replayStream(reader, snapshots, streamId) };
    } catch (err) {
      if (err instanceof ReplayError) return { ok: false, streamId, problem: err.message };
      throw err;
    }
  });
}
