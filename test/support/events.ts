import { credentials, Metadata, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import {
  EventServiceClient,
  StreamEventsRequest,
  SubscribeEventsRequest,
  type StreamEventsResponse,
  type SubscribeEventsResponse,
} from '../../src/gen/inventory/v1/event_service.js';
import type { Event } from '../../src/gen/inventory/v1/events.js';
import type { DeepPartial } from '../../src/gen/inventory/v1/event_service.js';

export function eventClient(address: string): EventServiceClient {
  return new EventServiceClient(address, credentials.createInsecure());
}

/** Reads a whole StreamEvents call; rejects with the call's ServiceError. */
export function streamEvents(client: EventServiceClient, req: DeepPartial<StreamEventsRequest>, metadata = new Metadata()): Promise<Event[]> {
  const call = client.streamEvents(StreamEventsRequest.fromPartial(req), metadata);
  const events: Event[] = [];
  return new Promise((resolve, reject) => {
    call.on('data', (m: StreamEventsResponse) => events.push(m.event!));
    call.on('error', reject);
    call.on('end', () => resolve(events));
  });
}

/** An open SubscribeEvents call that collects what it receives. */
export class Subscription {
  readonly events: Event[] = [];
  error: ServiceError | undefined;
  ended = false;
  readonly call: ClientReadableStream<SubscribeEventsResponse>;

  constructor(client: EventServiceClient, req: DeepPartial<SubscribeEventsRequest>) {
    this.call = client.subscribeEvents(SubscribeEventsRequest.fromPartial(req));
    this.call.on('data', (m: SubscribeEventsResponse) => this.events.push(m.event!));
    this.call.on('error', (err: ServiceError) => (this.error = err));
    this.call.on('end', () => (this.ended = true));
  }

  /** Waits until `check` holds (polling), or fails after `ms`. */
  async until(check: (s: Subscription) => boolean, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check(this)) {
      if (this.error) throw this.error;
      if (Date.now() > deadline) throw new Error(`subscription: condition not met after ${ms} ms (${this.events.length} events)`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async failure(ms = 15_000): Promise<ServiceError> {
    await this.until((s) => s.error !== undefined || s.ended, ms).catch(() => undefined);
    if (this.error) return this.error;
    throw new Error('expected the subscription to fail');
  }

  cancel(): void {
    this.call.cancel();
  }
}

/** Polls `check` until it passes or `ms` elapse. */
export async function waitFor(check: () => Promise<boolean> | boolean, ms = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

import { HealthClient, HealthCheckResponse_ServingStatus } from '../../src/gen/grpc/health/v1/health.js';

/** The health status of one service name ('' = the whole server). */
export function healthOf(address: string, service: string): Promise<HealthCheckResponse_ServingStatus> {
  const client = new HealthClient(address, credentials.createInsecure());
  return new Promise<HealthCheckResponse_ServingStatus>((resolve, reject) =>
    client.check({ service }, new Metadata(), { deadline: Date.now() + 5000 }, (err, res) => (err ? reject(err) : resolve(res.status))),
  ).finally(() => client.close());
}

export { HealthCheckResponse_ServingStatus as ServingStatus };
