import type { DynamoReader } from '../dynamo-reader.js';
import { ReplayError } from '../projections/projection.js';
import type { SnapshotStore } from '../snapshots.js';
import { mapLimit } from './progress.js';
import { replayStream, type ReplayedStream } from './replay-stream.js';

export type ReplayOutcome =
  | { ok: true; stream: ReplayedStream }
  | { ok: false; streamId: string; problem: string; /** events are missing (see ReplayError.gap) */ gap: boolean };

/**
 * Replays a batch of streams, a few at a time; a broken stream is an outcome, not an
 * exception. `upTo` may stop a stream at a version (the auditor replays to the version
 * PostgreSQL holds); by default each stream is replayed to its newest event.
 */
export function replayBatch(
  reader: DynamoReader,
  snapshots: SnapshotStore,
  streamIds: readonly string[],
  concurrency: number,
  upTo: (streamId: string) => number | undefined = () => undefined,
): Promise<ReplayOutcome[]> {
  return mapLimit(streamIds, concurrency, (streamId) => outcomeOf(streamId, () => replayStream(reader, snapshots, streamId, upTo(streamId))));
}

/** One stream's replay as an outcome: a ReplayError is a broken stream, anything else is thrown. */
export async function outcomeOf(streamId: string, replay: () => Promise<ReplayedStream>): Promise<ReplayOutcome> {
  try {
    return { ok: true, stream: await replay() };
  } catch (err) {
    if (err instanceof ReplayError) return { ok: false, streamId, problem: err.message, gap: err.gap };
    throw err;
  }
}
