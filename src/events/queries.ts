import { invalid } from '../inventory/errors.js';
import * as v from '../inventory/validation.js';
import type { DynamoReader, StreamRange } from './dynamo-reader.js';
import type { FeedReader, FeedStart } from './feed/subscription.js';
import type { StreamAdmission } from './stream-admission.js';
import { EVENT_TYPES, isEventType, requireStreamId } from './streams.js';
import type { EventEnvelope, EventType } from './types.js';

export interface StreamEventsInput {
  streamId: string;
  fromVersion: number;
  toVersion: number | undefined;
  direction: 'forward' | 'backward' | 'unknown';
  limit: number;
}

export interface SubscribeInput {
  start: FeedStart | undefined;
  streamIdPrefix: string;
  eventTypes: readonly string[];
}

const MAX = Number.MAX_SAFE_INTEGER;

/** The read side of the event store: one stream's history, and the global feed. */
export class EventQueries {
  constructor(
    private readonly reader: DynamoReader,
    private readonly feed: FeedReader,
    /** Bounds the StreamEvents calls streaming at once; none: unbounded (tests of the reader alone). */
    private readonly admission?: StreamAdmission,
  ) {}

  /** Validates everything first, so a bad request fails before the stream starts. */
  streamRange(input: StreamEventsInput): StreamRange {
    requireStreamId('stream_id', input.streamId);
    if (input.direction === 'unknown') throw invalid('direction', 'must be DIRECTION_FORWARD or DIRECTION_BACKWARD');
    const from = v.intInRange('from_version', input.fromVersion, 0, MAX);
    const to = input.toVersion === undefined ? undefined : v.intInRange('to_version', input.toVersion, 1, MAX);
    const limit = v.intInRange('limit', input.limit, 0, MAX);
    let low: number;
    let high: number;
    if (input.direction === 'forward') {
      low = Math.max(1, from);
      high = to ?? MAX;
      if (high < low) throw invalid('to_version', `must be at least from_version (${low}) when reading forward`);
    } else {
      high = from === 0 ? MAX : from;
      low = to ?? 1;
      if (low > high) throw invalid('to_version', `must be at most from_version (${high}) when reading backward`);
    }
    return { streamId: input.streamId, lowVersion: low, highVersion: high, direction: input.direction, limit: limit === 0 ? undefined : limit };
  }

  /** `deadline`: the call's, in epoch ms (Infinity without one); a call is told to retry well before it. */
  async *streamEvents(range: StreamRange, signal: AbortSignal, deadline: number): AsyncGenerator<EventEnvelope> {
    const release = await this.admission?.enter(signal, deadline);
    try {
      yield* this.reader.read(range, signal);
    } finally {
      release?.();
    }
  }

  subscribeOptions(input: SubscribeInput): { start: FeedStart; streamIdPrefix: string; eventTypes: EventType[] } {
    const start = input.start ?? { kind: 'after', position: 0 };
    if (start.kind === 'after') v.intInRange('after_position', start.position, 0, MAX);
    v.text('stream_id_prefix', input.streamIdPrefix, 0, 300);
    const types = new Set<EventType>();
    for (const t of input.eventTypes) {
      if (!isEventType(t)) throw invalid('event_types', `unknown event type ${JSON.stringify(t.slice(0, 100))}; known: ${EVENT_TYPES.join(', ')}`);
      types.add(t);
    }
    return { start, streamIdPrefix: input.streamIdPrefix, eventTypes: [...types] };
  }

  subscribe(options: ReturnType<EventQueries['subscribeOptions']>, signal: AbortSignal): AsyncIterable<EventEnvelope> {
    return this.feed.subscribe(options, signal);
  }
}
