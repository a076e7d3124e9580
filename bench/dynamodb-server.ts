import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEmbeddedDynamo, resolveEmbeddedDynamo } from '../src/embedded/dynamodb-choice.js';
import { EMBEDDED_DYNAMO_KINDS, type EmbeddedDynamoKind } from '../src/embedded/dynamodb-kind.js';
import { createLogger } from '../src/log.js';

/**
 * The benches' DynamoDB API in its own process, so neither the service nor the load
 * generator pays for it: DynamoDB Local or dynalite (EMBEDDED_DYNAMODB, default auto), in
 * memory, behind a small HTTP proxy that counts requests per operation. Prints the proxy's
 * endpoint, the server kind, then serves `GET /__counts` with the counts so far, and
 * `GET /__stored` with when DynamoDB's answer confirmed each event item (by stream and
 * version; the first success counts): the benches' append lag ends there, not at the
 * relay's `appended_at` mark, which waits for a PostgreSQL connection after it.
 */
const log = createLogger('warn');
const wanted = (process.env.EMBEDDED_DYNAMODB ?? 'auto') as EmbeddedDynamoKind;
if (!EMBEDDED_DYNAMO_KINDS.includes(wanted)) throw new Error(`EMBEDDED_DYNAMODB=${wanted}?`);
const kind = await resolveEmbeddedDynamo(wanted, log);
const dynamo = await createEmbeddedDynamo(kind, { dataDir: undefined, port: 0, log, jit: 'throughput' });
await dynamo.start();
const target = new URL(dynamo.endpoint);
const counts: Record<string, number> = {};
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
/** `streamId version` -> epoch ms of the answer that stored it. */
const stored = new Map<string, number>();

type Attr = { S?: string; N?: string };
/** The event keys a write request carries, in statement order (BatchExecuteStatement of INSERTs, or PutItem). */
function writtenKeys(operation: string, body: string): string[] | undefined {
  if (operation !== 'BatchExecuteStatement' && operation !== 'PutItem') return undefined;
  const req = JSON.parse(body) as {
    Statements?: Array<{ Statement: string; Parameters?: Attr[] }>;
    Item?: Record<string, Attr>;
  };
  if (operation === 'PutItem') return req.Item?.streamId?.S === undefined ? [] : [`${req.Item.streamId.S} ${req.Item.version?.N}`];
  return (req.Statements ?? []).map((st) => {
    // INSERT INTO "t" VALUE {'streamId': ?, 'version': ?, ...}: the names say which parameter is which.
    const names = [...st.Statement.matchAll(/'([^']+)': \?/g)].map((m) => m[1]);
    const at = (name: string) => st.Parameters?.[names.indexOf(name)];
    return `${at('streamId')?.S} ${at('version')?.N}`;
  });
}

function recordStored(operation: string, keys: string[], status: number, body: string): void {
  if (status !== 200) return;
  const now = Date.now();
  const ok = (k: string) => {
    if (!stored.has(k)) stored.set(k, now);
  };
  if (operation === 'PutItem') return keys.forEach(ok);
  const responses = (JSON.parse(body) as { Responses?: Array<{ Error?: unknown }> }).Responses ?? [];
  keys.forEach((k, i) => {
    if (responses[i] !== undefined && responses[i].Error === undefined) ok(k);
  });
}

const proxy = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/__counts') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(counts));
    return;
  }
  if (req.method === 'GET' && req.url === '/__stored') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(Object.fromEntries(stored)));
    return;
  }
  const operation = String(req.headers['x-amz-target'] ?? 'unknown').split('.').pop() ?? 'unknown';
  counts[operation] = (counts[operation] ?? 0) + 1;
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    let keys: string[] | undefined;
    try {
      keys = writtenKeys(operation, body.toString('utf8'));
    } catch {
      keys = undefined; // not JSON: passed on as it is
    }
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (keys === undefined || keys.length === 0) {
          up.pipe(res);
          return;
        }
        const answer: Buffer[] = [];
        up.on('data', (c: Buffer) => answer.push(c));
        up.on('end', () => {
          const text = Buffer.concat(answer);
          try {
            recordStored(operation, keys, up.statusCode ?? 0, text.toString('utf8'));
          } catch {
            // an answer that is not JSON stores nothing
          }
          res.end(text);
        });
      },
    );
    upstream.on('error', (err) => {
      res.writeHead(502);
      res.end(err.message);
    });
    upstream.end(body);
  });
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
process.stdout.write(`http://127.0.0.1:${(proxy.address() as AddressInfo).port} ${kind}\n`);
process.on('SIGTERM', () => {
  proxy.close();
  proxy.closeAllConnections();
  void dynamo.stop().then(() => process.exit(0));
});
