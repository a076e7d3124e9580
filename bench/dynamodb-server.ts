import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEmbeddedDynamo, resolveEmbeddedDynamo } from '../src/embedded/dynamodb-choice.js';
import { EMBEDDED_DYNAMO_KINDS, type EmbeddedDynamoKind } from '../src/embedded/dynamodb-kind.js';
import { createLogger } from '../src/log.js';

/**
 * The benches' DynamoDB API in its own process, so neither the service nor the load
 * generator pays for it: DynamoDB Local or dynalite (EMBEDDED_DYNAMODB, default auto), in
 * memory, behind a small HTTP proxy that counts requests per operation. Prints the proxy's
 * endpoint, the server kind, then serves `GET /__counts` with the counts so far.
 */
const log = createLogger('warn');
const wanted = (process.env.EMBEDDED_DYNAMODB ?? 'auto') as EmbeddedDynamoKind;
if (!EMBEDDED_DYNAMO_KINDS.includes(wanted)) throw new Error(`EMBEDDED_DYNAMODB=${wanted}?`);
const kind = await resolveEmbeddedDynamo(wanted, log);
const dynamo = await createEmbeddedDynamo(kind, { dataDir: undefined, port: 0, log });
await dynamo.start();
const target = new URL(dynamo.endpoint);
const counts: Record<string, number> = {};
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const proxy = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/__counts') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(counts));
    return;
  }
  const operation = String(req.headers['x-amz-target'] ?? 'unknown').split('.').pop() ?? 'unknown';
  counts[operation] = (counts[operation] ?? 0) + 1;
  const upstream = http.request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', (err) => {
    res.writeHead(502);
    res.end(err.message);
  });
  req.pipe(upstream);
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
process.stdout.write(`http://127.0.0.1:${(proxy.address() as AddressInfo).port} ${kind}\n`);
process.on('SIGTERM', () => {
  proxy.close();
  proxy.closeAllConnections();
  void dynamo.stop().then(() => process.exit(0));
});
