import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { context, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';

/**
 * A client span per DynamoDB command (retries included), as a child of the active span.
 * Commands outside any trace (background polling) get none: they would each start a trace
 * of their own. One SDK middleware instead of @opentelemetry/instrumentation-aws-sdk,
 * which patches SDK modules as they load (docs/operating.md "Traces").
 */
export function traceDynamo(client: DynamoDBClient, tracer: Tracer): void {
  client.middlewareStack.add(
    (next, ctx) => async (args) => {
      const parent = context.active();
      if (trace.getSpan(parent) === undefined) return next(args);
      const operation = (ctx.commandName ?? 'Unknown').replace(/Command$/, '');
      const input = args.input as { TableName?: unknown };
      const span = tracer.startSpan(
        `DynamoDB.${operation}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'rpc.system': 'aws-api',
            'rpc.service': 'DynamoDB',
            'rpc.method': operation,
            'db.system': 'dynamodb',
            ...(typeof input.TableName === 'string' ? { 'aws.dynamodb.table_names': [input.TableName] } : {}),
          },
        },
        parent,
      );
      try {
        return await context.with(trace.setSpan(parent, span), () => next(args));
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).name });
        throw err;
      } finally {
        span.end();
      }
    },
    { step: 'initialize', name: 'inventoryTracing', override: true },
  );
}
