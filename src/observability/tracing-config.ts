import { z } from 'zod';

/** Tracing settings, from the standard OTEL_* variables (OTLP over HTTP only). */
export interface TracingConfig {
  /** The OTLP/HTTP traces URL; undefined: tracing is off and costs nothing. */
  readonly endpoint: string | undefined;
  readonly serviceName: string;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: string;
  readonly samplerArg: number;
  readonly scheduleDelayMs: number;
}

const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

const url = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()))
  .refine((v) => v === undefined || /^https?:\/\//.test(v), { message: 'must be an http:// or https:// URL' });

export const tracingSchema = {
  OTEL_SDK_DISABLED: z.enum(['true', 'false', '']).default('false'),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none', '']).default('otlp'),
  OTEL_EXPORTER_OTLP_ENDPOINT: url,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url,
  OTEL_SERVICE_NAME: z.string().min(1).default('inventory-service'),
  OTEL_RESOURCE_ATTRIBUTES: z.string().default(''),
  OTEL_TRACES_SAMPLER: z.enum(SAMPLERS).default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(1).max(600_000).default(5000),
};

type Parsed = { [K in keyof typeof tracingSchema]: z.output<(typeof tracingSchema)[K]> };

export function toTracingConfig(e: Parsed): TracingConfig {
  const off = e.OTEL_SDK_DISABLED === 'true' || e.OTEL_TRACES_EXPORTER === 'none';
  const base = e.OTEL_EXPORTER_OTLP_ENDPOINT;
  const endpoint = off ? undefined : (e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`));
  const resourceAttributes: Record<string, string> = {};
  for (const pair of e.OTEL_RESOURCE_ATTRIBUTES.split(',')) {
    const i = pair.indexOf('=');
    if (i > 0) resourceAttributes[decodeURIComponent(pair.slice(0, i).trim())] = decodeURIComponent(pair.slice(i + 1).trim());
  }
  return {
    endpoint,
    serviceName: e.OTEL_SERVICE_NAME,
    resourceAttributes,
    sampler: e.OTEL_TRACES_SAMPLER,
    samplerArg: e.OTEL_TRACES_SAMPLER_ARG,
    scheduleDelayMs: e.OTEL_BSP_SCHEDULE_DELAY,
  };
}
