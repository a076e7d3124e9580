import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEmbeddedDynamo, resolveEmbeddedDynamo } from '../src/embedded/dynamodb-choice.js';
import { EMBEDDED_DYNAMO_KINDS, type EmbeddedDynamoKind } from '../src/embedded/dynamodb-kind.js';
import { createLogger } from '../src/log.js';
import { REMOTE, STUBBED } from './processes.js';

/**
 * The benches' DynamoDB API in its own process, so neither the service nor the load
 * generator pays for it: DynamoDB Local or dynalite (EMBEDDED_DYNAMODB, default auto), in
 * memory, behind a small HTTP proxy that counts requests per operation. Prints the proxy's
 * endpoint, the server kind, then serves `GET /__counts` with the counts so far, and
 * `GET /__stored` with when DynamoDB's answer confirmed each event item (by stream and
 * version; the first success counts): the benches' append lag ends there, not at the
 * relay's `appended_at` mark, which waits for a PostgreSQL connection after it.
 *
 * BENCH_EVENT_STORE=stub (an estimate, never a result): the proxy answers the relay's
 * BatchExecuteStatement INSERTs itself from memory (DuplicateItem for a key it holds,
 * exactly as DynamoDB does) and the BatchGetItem reads of those items, and passes on
 * everything else. It stands for an event store that costs this machine nothing, as
 * DynamoDB does in production, so a run shows what the service does when the emulator's
 * JVM no longer shares the two cores (run it with SNAPSHOT_EVERY=0: snapshots read the
 * stream back with a Query, which the stub does not answer). docs/event-store-writes.md.
 *
 * BENCH_DYNAMODB_TARGET=http://host:port: no embedded server; the proxy forwards to a
 * DynamoDB API already running there, such as DynamoDB Local on a second machine, so the
 * emulator's CPU is off this one (the targets measured with DynamoDB off the box, as in
 * production). Only an endpoint that checks no request signature: the SDK signs for the
 * proxy's host. BENCH_DYNAMODB_LISTEN=host:port: where the proxy listens (default
 * 127.0.0.1 and a free port); `0.0.0.0:8000` on the second machine serves the first. The
 * emulator has no authentication: only on a network you trust.
 */
const log = createLogger('warn');
/** `host:port` to listen on (default 127.0.0.1 and a free port). */
const listen = parseListen(process.env.BENCH_DYNAMODB_LISTEN);
const remote = process.env.BENCH_DYNAMODB_TARGET;
let kind: string;
let stopDynamo: () => Promise<void>;
let target: URL;
if (remote !== undefined && remote !== '') {
  target = new URL(remote);
  if (target.protocol !== 'http:') throw new Error(`BENCH_DYNAMODB_TARGET=${remote}: an http:// endpoint of a DynamoDB API that checks no signature (DynamoDB Local)`);
  kind = `${REMOTE}${target.host}`;
  stopDynamo = async () => undefined;
} else {
  const wanted = (process.env.EMBEDDED_DYNAMODB ?? 'auto') as EmbeddedDynamoKind;
  if (!EMBEDDED_DYNAMO_KINDS.includes(wanted)) throw new Error(`EMBEDDED_DYNAMODB=${wanted}?`);
  const resolved = await resolveEmbeddedDynamo(wanted, log);
  kind = resolved;
  const dynamo = await createEmbeddedDynamo(resolved, { dataDir: undefined, port: 0, log, jit: 'throughput' });
  await dynamo.start();
  target = new URL(dynamo.endpoint);
  stopDynamo = () => dynamo.stop();
}

function parseListen(spec: string | undefined): { host: string; port: number } {
  if (spec === undefined || spec === '') return { host: '127.0.0.1', port: 0 };
  const i = spec.lastIndexOf(':');
  const port = Number(spec.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`BENCH_DYNAMODB_LISTEN=${spec}? (host:port)`);
  return { host: spec.slice(0, i), port };
}
const counts: Record<string, number> = {};
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
/** `streamId version` -> epoch ms of the answer that stored it. */
const stored = new Map<string, number>();
const STUB = process.env.BENCH_EVENT_STORE === 'stub';
if (!['stub', 'dynamodb', undefined].includes(process.env.BENCH_EVENT_STORE)) throw new Error(`BENCH_EVENT_STORE=${process.env.BENCH_EVENT_STORE}? (stub or dynamodb)`);
/** The stub's items: `streamId version` -> the item as inserted. */
const stubItems = new Map<string, Item>();

type Attr = { S?: string; N?: string };
type Item = Record<string, Attr>;
type Statement = { Statement: string; Parameters?: Attr[] };
/** An event item's key, as the lag and the stub name it. */
const keyOf = (item: Item | undefined) => `${item?.streamId?.S} ${item?.version?.N}`;

/** The item of an INSERT INTO "t" VALUE {'streamId': ?, 'version': ?, ...}: the names say which parameter is which. */
function insertedItem(st: Statement): Item {
  const names = [...st.Statement.matchAll(/'([^']+)': \?/g)].map((m) => m[1]!);
  return Object.fromEntries(names.map((n, i) => [n, st.Parameters?.[i] ?? {}]));
}

/** The event keys a write request carries, in statement order (BatchExecuteStatement of INSERTs, or PutItem). */
function writtenKeys(operation: string, body: string): string[] | undefined {
  if (operation !== 'BatchExecuteStatement' && operation !== 'PutItem') return undefined;
  const req = JSON.parse(body) as { Statements?: Statement[]; Item?: Item };
  if (operation === 'PutItem') return req.Item?.streamId?.S === undefined ? [] : [keyOf(req.Item)];
  return (req.Statements ?? []).map((st) => keyOf(insertedItem(st)));
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

/** The stub's answer to a BatchExecuteStatement of INSERTs, or undefined for any other batch. */
function stubInsert(body: string): string | undefined {
  const statements = (JSON.parse(body) as { Statements?: Statement[] }).Statements ?? [];
  if (statements.length === 0 || !statements.every((st) => st.Statement.startsWith('INSERT INTO'))) return undefined;
  const responses = statements.map((st) => {
    const item = insertedItem(st);
    const key = keyOf(item);
    if (stubItems.has(key)) return { Error: { Code: 'DuplicateItem', Message: 'Duplicate primary key exists in table' } };
    stubItems.set(key, item);
    return {};
  });
  return JSON.stringify({ Responses: responses });
}

/** The stub's answer to a BatchGetItem whose keys it holds, or undefined to pass it on. */
function stubGet(body: string): string | undefined {
  const request = JSON.parse(body) as { RequestItems: Record<string, { Keys: Item[] }> };
  const tables = Object.entries(request.RequestItems);
  if (!tables.every(([, t]) => t.Keys.every((k) => stubItems.has(keyOf(k))))) return undefined;
  return JSON.stringify({ Responses: Object.fromEntries(tables.map(([name, t]) => [name, t.Keys.map((k) => stubItems.get(keyOf(k)))])), UnprocessedKeys: {} });
}

/** What the stub answers itself (undefined: pass the request on). */
function stubAnswer(operation: string, body: string): string | undefined {
  try {
    if (operation === 'BatchExecuteStatement') return stubInsert(body);
    if (operation === 'BatchGetItem') return stubGet(body);
  } catch {
    // not JSON: passed on as it is
  }
  return undefined;
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
    const answer = STUB ? stubAnswer(operation, body.toString('utf8')) : undefined;
    if (answer !== undefined) {
      if (keys !== undefined) recordStored(operation, keys, 200, answer);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(answer);
      return;
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
await new Promise<void>((resolve) => proxy.listen(listen.port, listen.host, resolve));
const shown = listen.host === '0.0.0.0' || listen.host === '::' ? '127.0.0.1' : listen.host;
process.stdout.write(`http://${shown}:${(proxy.address() as AddressInfo).port} ${STUB ? `${kind}${STUBBED}` : kind}\n`);
const stop = () => {
  proxy.close();
  proxy.closeAllConnections();
  void stopDynamo().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
