import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Link, type Span, type Tracer } from '@opentelemetry/api';
import type { AppendTracing } from '../events/relay.js';
import type { TransactionTracing } from '../persistence/unit-of-work.js';

async function inSpan<T>(span: Span, ctx: Context, work: () => Promise<T>): Promise<T> {
  try {
    return await context.with(ctx, work);
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    throw err;
  }
}

/** Spans around transactions, and the traceparent the outbox row keeps. */
export function transactionTracing(tracer: Tracer): TransactionTracing {
  return {
    transaction: async (work) => {
      const parent = context.active();
      // Background transactions (expiry sweeps, every second) would each start a trace.
      if (trace.getSpan(parent) === undefined) return work();
      const span = tracer.startSpan('transaction', { kind: SpanKind.INTERNAL, attributes: { 'db.system': 'postgresql' } }, parent);
      try {
        return await inSpan(span, trace.setSpan(parent, span), work);
      } finally {
        span.end();
      }
    },
    detached: (notify) => context.with(ROOT_CONTEXT, notify),
    traceparent: () => {
      if (trace.getSpan(context.active()) === undefined) return null;
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      return carrier.traceparent ?? null;
    },
  };
}

/**
 * The DynamoDB append of outbox rows as spans in the traces that recorded them: one span
 * per distinct recording context in the batch, each a child of, and linked to, the span
 * that recorded the rows (the traceparent stored in the row, so a sweep after a restart
 * joins the same trace). The DynamoDB calls run under the first of them.
 */
export function appendTracing(tracer: Tracer): AppendTracing {
  return {
    append: async (rows, path, work) => {
      const byContext = new Map<string, number>();
      for (const r of rows) if (r.traceContext !== null) byContext.set(r.traceContext, (byContext.get(r.traceContext) ?? 0) + 1);
      if (byContext.size === 0) return work();
      const spans = [...byContext].map(([traceparent, events]) => {
        const parent = propagation.extract(ROOT_CONTEXT, { traceparent });
        const recorded = trace.getSpanContext(parent);
        const links: Link[] = recorded === undefined ? [] : [{ context: recorded }];
        return {
          parent,
          span: tracer.startSpan(
            'outbox append',
            { kind: SpanKind.PRODUCER, links, attributes: { 'inventory.append.path': path, 'inventory.append.events': events, 'inventory.append.batch': rows.length } },
            parent,
          ),
        };
      });
      const first = spans[0]!;
      try {
        const appended = await inSpan(first.span, trace.setSpan(first.parent, first.span), work);
        for (const s of spans) {
          s.span.setAttribute('inventory.append.appended', appended);
          // The relay retries what failed; the span says this attempt fell short.
          if (appended < rows.length) s.span.setStatus({ code: SpanStatusCode.ERROR, message: `${appended} of ${rows.length} events appended` });
        }
        return appended;
      } finally {
        for (const s of spans) s.span.end();
      }
    },
  };
}
