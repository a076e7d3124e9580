import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of a real DynamoDB API that answers the next `failures` requests of
 * one operation itself, with the error DynamoDB sends when it throttles or fails (the real
 * servers cannot be made to throttle on demand), and forwards everything else.
 */
export interface DynamoFaultProxy {
  readonly endpoint: string;
  /** Requests seen per operation (e.g. BatchExecuteStatement), failed or forwarded. */
  readonly seen: Record<string, number>;
  failNext(operation: string, failures: number, error: { status: number; type: string }): void;
  close(): Promise<void>;
}

export async function startDynamoFaultProxy(target: string): Promise<DynamoFaultProxy> {
  const url = new URL(target);
  const seen: Record<string, number> = {};
  const failing = new Map<string, { left: number; status: number; type: string }>();
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
    seen[operation] = (seen[operation] ?? 0) + 1;
    const fault = failing.get(operation);
    if (fault !== undefined && fault.left > 0) {
      fault.left--;
      req.resume();
      req.on('end', () => {
        res.writeHead(fault.status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${fault.type}`, message: 'injected by the test' }));
      });
      return;
    }
    const upstream = http.request({ host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    failNext: (operation, failures, error) => failing.set(operation, { left: failures, ...error }),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      agent.destroy();
    },
  };
}
