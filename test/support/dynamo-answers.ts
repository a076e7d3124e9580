import http from 'node:http';

/** What the proxy answers instead of forwarding: an HTTP status and a DynamoDB JSON body. */
export interface ScriptedAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * An HTTP proxy in front of the test run's real DynamoDB API that answers chosen
 * operations itself (by X-Amz-Target, e.g. `UpdateTimeToLive`), to produce the answers of
 * real AWS that dynalite cannot give: AccessDenied, a table still UPDATING. Everything
 * else is forwarded unchanged.
 */
export interface DynamoAnswers {
  readonly endpoint: string;
  /** From now on `operation` gets `answer`; undefined forwards it again. */
  answer(operation: string, answer: ScriptedAnswer | undefined): void;
  /** Forwards every operation again. */
  clear(): void;
  close(): Promise<void>;
}

/** An AWS error body as the SDK parses it (`__type` names the exception). */
export const awsError = (type: string, message: string): ScriptedAnswer => ({
  status: 400,
  body: { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message },
});

export async function startDynamoAnswers(target: string): Promise<DynamoAnswers> {
  const upstream = new URL(target);
  const scripted = new Map<string, ScriptedAnswer>();
  const server = http.createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const answer = scripted.get(operation);
    if (answer !== undefined) {
      req.resume();
      req.on('end', () => {
        res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(answer.body));
      });
      return;
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    answer: (operation, answer) => (answer === undefined ? scripted.delete(operation) : scripted.set(operation, answer)),
    clear: () => scripted.clear(),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
