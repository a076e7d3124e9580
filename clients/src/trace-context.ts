import type { Metadata } from '@grpc/grpc-js';

type OpenTelemetryApi = typeof import('@opentelemetry/api');

// An optional peer dependency: present when the consumer traces, absent otherwise.
let api: OpenTelemetryApi | undefined;
try {
  api = await import('@opentelemetry/api');
} catch {
  api = undefined;
}

/**
 * Adds the caller's active trace context (W3C `traceparent`, through the consumer's
 * registered propagator) to a call's metadata, unless the caller set one explicitly.
 * @internal
 */
export function injectTraceContext(metadata: Metadata): void {
  if (api === undefined || metadata.get('traceparent').length > 0) return;
  api.propagation.inject(api.context.active(), metadata, { set: (m, key, value) => m.set(key, value) });
}
