import { ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The names the grpc-ecosystem Prometheus middleware gives the codes (Go's codes.Code
 * String()), so dashboards and alerts written for it work unchanged.
 */
const CODE_NAMES: Record<status, string> = {
  [status.OK]: 'OK',
  [status.CANCELLED]: 'Canceled',
  [status.UNKNOWN]: 'Unknown',
  [status.INVALID_ARGUMENT]: 'InvalidArgument',
  [status.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
  [status.NOT_FOUND]: 'NotFound',
  [status.ALREADY_EXISTS]: 'AlreadyExists',
  [status.PERMISSION_DENIED]: 'PermissionDenied',
  [status.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [status.FAILED_PRECONDITION]: 'FailedPrecondition',
  [status.ABORTED]: 'Aborted',
  [status.OUT_OF_RANGE]: 'OutOfRange',
  [status.UNIMPLEMENTED]: 'Unimplemented',
  [status.INTERNAL]: 'Internal',
  [status.UNAVAILABLE]: 'Unavailable',
  [status.DATA_LOSS]: 'DataLoss',
  [status.UNAUTHENTICATED]: 'Unauthenticated',
};

export const grpcCodeName = (code: status): string => CODE_NAMES[code] ?? 'Unknown';

type RpcLabels = 'grpc_type' | 'grpc_service' | 'grpc_method';

/** The grpc-ecosystem server metrics, plus the streams open right now. */
export class GrpcServerMetrics {
  readonly started: Counter<RpcLabels>;
  readonly handled: Counter<RpcLabels | 'grpc_code'>;
  readonly handlingSeconds: Histogram<RpcLabels>;
  readonly msgReceived: Counter<RpcLabels>;
  readonly msgSent: Counter<RpcLabels>;
  readonly openStreams: Gauge<'grpc_service' | 'grpc_method'>;

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['grpc_type', 'grpc_service', 'grpc_method'] as const;
    this.started = new Counter({ name: 'grpc_server_started_total', help: 'Total number of RPCs started on the server.', labelNames, registers });
    this.handled = new Counter({
      name: 'grpc_server_handled_total',
      help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: [...labelNames, 'grpc_code'],
      registers,
    });
    // prom-client's default buckets are Prometheus' DefBuckets, which the Go middleware uses too.
    this.handlingSeconds = new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
      labelNames,
      registers,
    });
    this.msgReceived = new Counter({ name: 'grpc_server_msg_received_total', help: 'Total number of RPC stream messages received on the server.', labelNames, registers });
    this.msgSent = new Counter({ name: 'grpc_server_msg_sent_total', help: 'Total number of gRPC stream messages sent by the server.', labelNames, registers });
    this.openStreams = new Gauge({
      name: 'inventory_grpc_open_streams',
      help: 'Server-streaming and bidi calls open right now (SubscribeEvents subscriptions, StreamEvents reads, health watches).',
      labelNames: ['grpc_service', 'grpc_method'],
      registers,
    });
  }
}

function rpcType(requestStream: boolean, responseStream: boolean): string {
  if (requestStream) return responseStream ? 'bidi_stream' : 'client_stream';
  return responseStream ? 'server_stream' : 'unary';
}

/** One method's series, resolved once: prom-client hashes a label set on every update otherwise. */
class MethodSeries {
  readonly started;
  readonly seconds;
  readonly received;
  readonly sent;
  readonly open;
  private readonly handled = new Map<status, { inc(): void }>();

  constructor(
    private readonly m: GrpcServerMetrics,
    private readonly labels: Record<RpcLabels, string>,
    readonly streaming: boolean,
  ) {
    this.started = m.started.labels(labels);
    this.seconds = m.handlingSeconds.labels(labels);
    this.received = m.msgReceived.labels(labels);
    this.sent = m.msgSent.labels(labels);
    this.open = m.openStreams.labels({ grpc_service: labels.grpc_service, grpc_method: labels.grpc_method });
  }

  handledWith(code: status): { inc(): void } {
    let child = this.handled.get(code);
    if (child === undefined) this.handled.set(code, (child = this.m.handled.labels({ ...this.labels, grpc_code: grpcCodeName(code) })));
    return child;
  }
}

/**
 * RED metrics for every call the server routes (unknown methods never reach interceptors,
 * so method labels stay bounded by the services the server registered).
 */
export function metricsInterceptor(m: GrpcServerMetrics): ServerInterceptor {
  const byPath = new Map<string, MethodSeries>();
  const seriesOf = (path: string, requestStream: boolean, responseStream: boolean): MethodSeries => {
    let s = byPath.get(path);
    if (s === undefined) {
      const slash = path.lastIndexOf('/');
      const labels = { grpc_type: rpcType(requestStream, responseStream), grpc_service: path.slice(1, slash), grpc_method: path.slice(slash + 1) };
      byPath.set(path, (s = new MethodSeries(m, labels, requestStream || responseStream)));
    }
    return s;
  };
  return (method, call) => {
    const series = seriesOf(method.path, method.requestStream, method.responseStream);
    let startedAt = 0n;
    let finished = false;
    const finish = (code: status) => {
      if (finished) return;
      finished = true;
      series.handledWith(code).inc();
      series.seconds.observe(Number(process.hrtime.bigint() - startedAt) / 1e9);
      if (series.streaming) series.open.dec();
    };
    return new ServerInterceptingCall(call, {
      start: (next) => {
        startedAt = process.hrtime.bigint();
        series.started.inc();
        if (series.streaming) series.open.inc();
        next({
          onReceiveMessage: (message, nextMessage) => {
            series.received.inc();
            nextMessage(message);
          },
          // A client that goes away gets no status; count the call as the Go middleware would.
          onCancel: () => finish(status.CANCELLED),
        });
      },
      sendMessage: (message, next) => {
        series.sent.inc();
        next(message);
      },
      sendStatus: (s, next) => {
        finish(s.code);
        next(s);
      },
    });
  };
}
