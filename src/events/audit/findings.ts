/**
 * What the online integrity auditor can find. One table, so the metric label, the log line,
 * the stored finding and the RPC all speak of the same kinds.
 */
export const INTEGRITY_KINDS = {
  /** The stream replayed from the event store differs from the PostgreSQL row, field by field. */
  state_mismatch: 'the replayed stream differs from the PostgreSQL row',
  /** The ledger rows of a stock level do not add up to its on_hand and allocated. */
  ledger_mismatch: 'the ledger does not add up to the stock level',
  /** An event the outbox marks as appended (or the stream needs) is not in the event store. */
  event_missing: 'an event is missing from the event store',
  /** The event store holds another event id or other content than the outbox row. */
  event_mismatch: 'the event store and the outbox disagree on an event',
  /** The outbox holds an event beyond the version PostgreSQL holds for its entity. */
  orphan_event: 'an event that the PostgreSQL state does not reflect',
  /** The stream cannot be replayed (wrong kind of event, foreign entity, broken snapshot). */
  stream_broken: 'the stream cannot be replayed',
} as const;

export type IntegrityKind = keyof typeof INTEGRITY_KINDS;

export interface Finding {
  readonly kind: IntegrityKind;
  readonly streamId: string;
  /** verify's DIFF line without the stream id. */
  readonly detail: string;
}

/** The log line of a finding: verify's DIFF format, with the kind in front. */
export const diffLine = (f: Finding): string => `DIFF ${f.streamId}: ${f.detail}`;
