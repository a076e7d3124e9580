import type { EventEnvelope, EventType } from '../types.js';

/** What a subscriber asked for: events of these types (all when empty) in streams starting with the prefix. */
export interface FeedFilter {
  readonly streamIdPrefix: string;
  readonly eventTypes: readonly EventType[];
}

export type Matcher = (e: EventEnvelope) => boolean;

/** The filter as one in-memory check, applied to every event the tail reads for every live subscriber. */
export function matcherOf(f: FeedFilter): Matcher {
  const prefix = f.streamIdPrefix;
  const types = f.eventTypes.length === 0 ? undefined : new Set<string>(f.eventTypes);
  if (types === undefined) return prefix === '' ? () => true : (e) => e.streamId.startsWith(prefix);
  if (prefix === '') return (e) => types.has(e.type);
  return (e) => types.has(e.type) && e.streamId.startsWith(prefix);
}
