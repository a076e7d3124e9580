import type { StreamKind } from '../streams.js';
import type { EventEnvelope } from '../types.js';

/** Every replayed state carries the stream version and the times of its first and last event. */
export interface Versioned {
  version: number;
  /** ISO time of the stream's first event (the entity's created_at). */
  createdAt: string;
  /** ISO time of the stream's newest event (the entity's updated_at). */
  updatedAt: string;
}

/** A stream that cannot be replayed: its events contradict each other or the catalog. */
export class ReplayError extends Error {
  constructor(
    readonly streamId: string,
    message: string,
    /** True when events the stream needs are not in the event store (a gap), not malformed ones. */
    readonly gap = false,
  ) {
    super(`${streamId}: ${message}`);
    this.name = 'ReplayError';
  }
}

/**
 * The pure half of a projection: how the events of one kind of stream fold into the state
 * of its entity. States are plain JSON (times as ISO strings) so that snapshots store them
 * as they are. `apply` checks what the events promise (creation first, deltas that add up
 * to the stated totals, legal status transitions) and throws ReplayError otherwise.
 */
export interface Projection<S extends Versioned> {
  readonly kind: StreamKind;
  apply(state: S | undefined, event: EventEnvelope): S;
  /** Checks a snapshot's JSON before it is trusted as a state. */
  revive(json: unknown, streamId: string): S;
  /** The stream a state belongs to (replay checks the events name their own entity). */
  streamIdOf(state: S): string;
}

/** The common fields of a state after `e`. */
export const stamp = (prev: Versioned | undefined, e: EventEnvelope): Versioned => ({
  version: e.version,
  createdAt: prev?.createdAt ?? e.occurredAt.toISOString(),
  updatedAt: e.occurredAt.toISOString(),
});

export function mustBeFirst(state: Versioned | undefined, e: EventEnvelope): void {
  if (state !== undefined) throw new ReplayError(e.streamId, `${e.type} at version ${e.version} but the entity exists already`);
}

export function mustExist<S>(state: S | undefined, e: EventEnvelope): S {
  if (state === undefined) throw new ReplayError(e.streamId, `${e.type} at version ${e.version} before the entity was created`);
  return state;
}

/** A snapshot's JSON must at least be an object with the versioned fields. */
export function reviveObject<S extends Versioned>(json: unknown, streamId: string, keys: readonly (keyof S)[]): S {
  if (typeof json !== 'object' || json === null) throw new ReplayError(streamId, 'snapshot is not an object');
  const o = json as Record<string, unknown>;
  for (const k of ['version', 'createdAt', 'updatedAt', ...keys] as string[]) {
    if (!(k in o)) throw new ReplayError(streamId, `snapshot lacks ${k}`);
  }
  return o as S;
}
