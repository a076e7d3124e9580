import type { DynamoReader } from '../dynamo-reader.js';
import { projections } from '../projections/index.js';
import { ReplayError, type Versioned } from '../projections/projection.js';
import type { SnapshotStore } from '../snapshots.js';
import { parseStreamId, streamKindOf, type StreamRef } from '../streams.js';
import type { EventEnvelope } from '../types.js';

export interface ReplayedStream {
  readonly streamId: string;
  readonly ref: StreamRef;
  /** Undefined when the store holds nothing for the stream. */
  readonly state: Versioned | undefined;
  /** The snapshot version replay started from (0: from the first event). */
  readonly fromSnapshot: number;
  /** Events applied after the snapshot. */
  readonly events: number;
}

/**
 * Rebuilds one stream's state from the event store: the newest snapshot (at or below
 * `upTo`), then every later event in order. The events must continue the snapshot
 * without a gap, belong to the stream's kind and name the stream's own entity; anything
 * else is a ReplayError naming the stream and the version.
 */
export async function replayStream(
  reader: DynamoReader,
  snapshots: SnapshotStore,
  streamId: string,
  upTo?: number,
  signal?: AbortSignal,
): Promise<ReplayedStream> {
  const ref = parseStreamId(streamId);
  if (ref === undefined) throw new ReplayError(streamId, 'not a stream id of any known kind');
  const projection = projections[ref.kind];
  const snapshot = await snapshots.latest(streamId, upTo);
  let state = snapshot === undefined ? undefined : projection.revive(snapshot.state, streamId);
  if (snapshot !== undefined && state?.version !== snapshot.version) {
    throw new ReplayError(streamId, `snapshot ${snapshot.version} holds a state of version ${String(state?.version)}`);
  }
  const out = await continueReplay(streamId, ref, state, snapshot?.version ?? 0, snapshot !== undefined, reader.read(
    { streamId, lowVersion: (snapshot?.version ?? 0) + 1, highVersion: upTo ?? Number.MAX_SAFE_INTEGER, direction: 'forward' },
    signal,
  ));
  if (upTo !== undefined && out.version !== upTo) throw new ReplayError(streamId, `version ${out.version + 1} is missing (wanted up to ${upTo})`, true);
  return { streamId, ref, state: out.state, fromSnapshot: snapshot?.version ?? 0, events: out.events };
}

/**
 * Applies a stream's events after `version` (where `state` stands) in order, with replay's
 * checks: no gap, the stream's own kind and entity. Replay from a snapshot uses it, and so
 * does the integrity auditor when it continues from a state it audited before.
 */
export async function continueReplay(
  streamId: string,
  ref: StreamRef,
  start: Versioned | undefined,
  startVersion: number,
  fromSnapshot: boolean,
  stored: AsyncIterable<EventEnvelope> | Iterable<EventEnvelope>,
): Promise<{ state: Versioned | undefined; version: number; events: number }> {
  const projection = projections[ref.kind];
  let state = start;
  let version = startVersion;
  let events = 0;
  for await (const e of stored) {
    if (e.version !== version + 1) {
      throw new ReplayError(
        streamId,
        version === 0 && !fromSnapshot
          ? `the stream starts at version ${e.version}: versions 1-${e.version - 1} are gone and no snapshot covers them`
          : `version ${version + 1} is missing (next stored: ${e.version})`,
        true,
      );
    }
    if (streamKindOf(e.type) !== ref.kind) throw new ReplayError(streamId, `version ${e.version} is a ${e.type}, not a ${ref.kind} event`);
    state = projection.apply(state, e);
    if (projection.streamIdOf(state) !== streamId) {
      throw new ReplayError(streamId, `version ${e.version} (${e.type}) describes ${projection.streamIdOf(state)}`);
    }
    version = e.version;
    events++;
  }
  return { state, version, events };
}
