import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import type { TracingConfig } from '../config.js';
import type { Logger } from '../log.js';

export const TRACER_NAME = 'inventory-service';

export interface Tracing {
  readonly tracer: Tracer;
  /** Flushes the spans still buffered and unregisters everything this registered. */
  shutdown(): Promise<void>;
}

/** OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG as the specification names them (this SDK does not read them). */
function samplerOf(name: string, arg: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(arg);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(arg) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * Registers the OpenTelemetry globals: W3C trace context, an AsyncLocalStorage context,
 * a provider exporting OTLP over HTTP, and the pg instrumentation. Must run before the
 * ORM opens, so the pg module knex requires is patched (require-in-the-middle works for
 * pg here because knex loads it with require(); no ESM loader hook is needed).
 * Returns undefined when no exporter is configured: then nothing is registered and the
 * OpenTelemetry API stays a no-op.
 */
export function startTracing(config: TracingConfig, log: Logger): Tracing | undefined {
  if (config.endpoint === undefined) return undefined;
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName, ...config.resourceAttributes }),
    sampler: samplerOf(config.sampler, config.samplerArg),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: config.endpoint }), scheduledDelayMillis: config.scheduleDelayMs })],
  });
  trace.setGlobalTracerProvider(provider);
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [new PgInstrumentation({ requireParentSpan: true })],
  });
  log.info({ endpoint: config.endpoint, sampler: config.sampler }, 'tracing on');
  return {
    tracer: provider.getTracer(TRACER_NAME),
    shutdown: async () => {
      unregister();
      await provider.shutdown().catch((err: Error) => log.warn({ err: err.message }, 'trace export at shutdown failed'));
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}
