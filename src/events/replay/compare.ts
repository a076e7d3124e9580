import type { Versioned } from '../projections/projection.js';
import type { ReplayOutcome } from './replay-batch.js';
import { diffStates } from './store.js';

/**
 * What is wrong with one replayed stream against its live PostgreSQL state, as readable
 * lines (verify's DIFF format without the stream id), added to `out` under the stream id.
 * Shared by `verify` and the online integrity auditor, so both judge a stream alike.
 */
export function problemsOf(r: ReplayOutcome, live: Map<string, Versioned> | undefined, uncompared: readonly string[], out: Map<string, string[]>): void {
  if (!r.ok) {
    out.set(r.streamId, [r.problem.startsWith(`${r.streamId}: `) ? r.problem.slice(r.streamId.length + 2) : r.problem]);
    return;
  }
  if (live === undefined) return; // no store for this kind: replayed and checked only
  const replayed = r.stream.state;
  const row = live.get(r.stream.streamId);
  if (replayed === undefined) return;
  if (row === undefined) {
    out.set(r.stream.streamId, [`in the event store (version ${replayed.version}) but not in PostgreSQL`]);
    return;
  }
  const diff = diffStates(replayed, row, uncompared);
  if (diff.length > 0) out.set(r.stream.streamId, diff);
}
