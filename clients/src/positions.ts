import type { SubscribeEventsRequest } from './gen/inventory/v1/event_service.js';

/** Where SubscribeEvents starts: the `start` oneof of its request. */
export type SubscribeStart = NonNullable<SubscribeEventsRequest['start']>;

/**
 * Start after this feed position: pass the position of the last event you processed
 * (0 for the whole retained feed from its beginning).
 *
 * @example
 * for await (const { event } of inventory.subscribeEvents({ start: afterPosition(lastSeen) })) { ... }
 */
export function afterPosition(position: number): SubscribeStart {
  return { $case: 'afterPosition', value: position };
}

/** Only events that commit from now on. */
export function fromNow(): SubscribeStart {
  return { $case: 'fromNow', value: true };
}

/** From the oldest event still retained, accepting that older ones were pruned. */
export function fromOldest(): SubscribeStart {
  return { $case: 'fromOldest', value: true };
}
