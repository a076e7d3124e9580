import { ServerInterceptingCall, status, type Metadata, type ServerInterceptor } from '@grpc/grpc-js';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type TextMapGetter, type Tracer } from '@opentelemetry/api';

const metadataGetter: TextMapGetter<Metadata> = {
  get: (carrier, key) => {
    const v = carrier.get(key)[0];
    return v === undefined ? undefined : String(v);
  },
  keys: (carrier) => Object.keys(carrier.getMap()),
};

/**
 * A server span per call, continuing the caller's trace when the metadata carries a W3C
 * `traceparent`. The handler runs inside the span's context, so the PostgreSQL, DynamoDB
 * and append spans below it, and the call's log lines, belong to it.
 */
export function tracingInterceptor(tracer: Tracer): ServerInterceptor {
  return (method, call) => {
    const slash = method.path.lastIndexOf('/');
    const service = method.path.slice(1, slash);
    const name = method.path.slice(slash + 1);
    let span: Span | undefined;
    let ctx: Context = ROOT_CONTEXT;
    const end = (code: status, message?: string) => {
      if (span === undefined) return;
      span.setAttribute('rpc.grpc.status_code', code);
      if (code !== status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: message ?? status[code] });
      span.end();
      span = undefined;
    };
    return new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            const parent = propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
            span = tracer.startSpan(
              `${service}/${name}`,
              { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': name } },
              parent,
            );
            ctx = trace.setSpan(parent, span);
            context.with(ctx, () => nextMetadata(metadata));
          },
          // grpc-js runs the handler from these callbacks: run them in the span's context.
          onReceiveMessage: (message, nextMessage) => context.with(ctx, () => nextMessage(message)),
          onReceiveHalfClose: (nextHalfClose) => context.with(ctx, () => nextHalfClose()),
          onCancel: () => end(status.CANCELLED, 'cancelled by the client'),
        });
      },
      sendStatus: (s, next) => {
        end(s.code, s.details);
        next(s);
      },
    });
  };
}
