import { Direction } from '../gen/inventory/v1/event_service.js';
import type { EventServiceServer } from '../gen/inventory/v1/event_service.js';
import type { IntegrityReports } from '../events/audit/report.js';
import type { EventQueries, StreamEventsInput, SubscribeInput } from '../events/queries.js';
import { serverStream, unary, type EdgeDeps } from './call.js';
import { toEventMessage } from './event-mapper.js';
import { optionalInt } from './mappers.js';

const direction = (d: Direction): StreamEventsInput['direction'] => {
  switch (d) {
    case Direction.DIRECTION_UNSPECIFIED:
    case Direction.DIRECTION_FORWARD:
      return 'forward';
    case Direction.DIRECTION_BACKWARD:
      return 'backward';
    default:
      return 'unknown';
  }
};

const start = (s: Parameters<EventServiceServer['subscribeEvents']>[0]['request']['start']): SubscribeInput['start'] => {
  switch (s?.$case) {
    case undefined:
      return undefined;
    case 'afterPosition':
      return { kind: 'after', position: optionalInt(s.value) ?? 0 };
    case 'fromNow':
      return { kind: 'now' };
    case 'fromOldest':
      return { kind: 'oldest' };
    default: {
      const never: never = s;
      return never;
    }
  }
};

/** inventory.v1.EventService: validate, stream from the event store or the feed, encode. */
export function eventServiceHandlers(deps: EdgeDeps, queries: EventQueries, integrity: IntegrityReports): EventServiceServer {
  return {
    getIntegrityReport: unary(deps, 'GetIntegrityReport', async (req) => {
      const r = await integrity.report(req.pageSize);
      return {
        auditedPosition: BigInt(r.auditedPosition),
        feedPosition: BigInt(r.feedPosition),
        lag: { seconds: BigInt(Math.floor(r.lagSeconds)), nanos: Math.round((r.lagSeconds % 1) * 1e9) },
        openFindings: r.openFindings,
        sweepsCompleted: r.sweepsCompleted,
        sweepCursor: r.sweepCursor,
        updateTime: r.updatedAt ?? undefined,
        findings: r.findings.map((f) => ({ kind: f.kind, streamId: f.streamId, detail: f.detail, findTime: f.foundAt, resolveTime: f.resolvedAt ?? undefined })),
      };
    }),
    streamEvents: serverStream(deps, 'StreamEvents', async function* (req, s) {
      const range = queries.streamRange({
        streamId: req.streamId,
        fromVersion: optionalInt(req.fromVersion) ?? 0,
        toVersion: optionalInt(req.toVersion),
        direction: direction(req.direction),
        limit: req.limit,
      });
      for await (const e of queries.streamEvents(range, s.signal, s.deadline)) yield { event: toEventMessage(e) };
    }),
    subscribeEvents: serverStream(deps, 'SubscribeEvents', async function* (req, s) {
      const options = queries.subscribeOptions({ start: start(req.start), streamIdPrefix: req.streamIdPrefix, eventTypes: req.eventTypes });
      for await (const e of queries.subscribe(options, s.signal)) yield { event: toEventMessage(e) };
    }),
  };
}
