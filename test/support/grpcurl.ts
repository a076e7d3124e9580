import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { create, createFileRegistry, fromBinary, fromJson, toBinary, toJson, type DescMethod, type JsonValue } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ReflectionClient } from './reflection-client.js';

/** What a grpcurl command printed: the messages as proto3 JSON, the error if the call failed, or the listed names. */
export interface GrpcurlOutcome {
  readonly messages: JsonValue[];
  readonly error?: { readonly code: string; readonly message: string };
  readonly listed?: string[];
}

/** grpcurl's (Go's) name of a status code: INVALID_ARGUMENT -> InvalidArgument, CANCELLED -> Canceled. */
export function goCodeName(code: number): string {
  if (code === status.CANCELLED) return 'Canceled';
  if (code === status.OK) return 'OK';
  const name = status[code] ?? `Code(${code})`;
  return name
    .toLowerCase()
    .split('_')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

interface Parsed {
  verb: 'list' | 'describe' | 'call';
  symbol: string | undefined;
  data: string | undefined;
  headers: Array<[string, string]>;
  maxTimeSeconds: number | undefined;
}

const VALUE_FLAGS = new Set(['-d', '-H', '-rpc-header', '-reflect-header', '-max-time', '-connect-timeout', '-cacert', '-cert', '-key', '-authority', '-format']);

function parse(words: readonly string[]): Parsed {
  const positional: string[] = [];
  const out: Parsed = { verb: 'call', symbol: undefined, data: undefined, headers: [], maxTimeSeconds: undefined };
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    if (!VALUE_FLAGS.has(w)) {
      if (!w.startsWith('-')) positional.push(w);
      continue;
    }
    const value = words[++i]!;
    if (w === '-d') out.data = value;
    if (w === '-H' || w === '-rpc-header') {
      const colon = value.indexOf(':');
      out.headers.push([value.slice(0, colon).trim(), value.slice(colon + 1).trim()]);
    }
    if (w === '-max-time') out.maxTimeSeconds = Number(value);
  }
  const [, verbOrMethod, symbol] = positional;
  if (verbOrMethod === 'list' || verbOrMethod === 'describe') return { ...out, verb: verbOrMethod, symbol };
  return { ...out, symbol: verbOrMethod };
}

/**
 * Runs a README grpcurl command against `address` the way grpcurl does, through server
 * reflection only (no .proto files): descriptors fetched by symbol, the JSON request
 * encoded with them, the response printed as proto3 JSON with default values left out.
 */
export async function emulateGrpcurl(words: readonly string[], address: string): Promise<GrpcurlOutcome> {
  const cmd = parse(words);
  const reflection = new ReflectionClient(address, 'v1');
  try {
    if (cmd.verb === 'list' && cmd.symbol === undefined) return { messages: [], listed: (await reflection.listServices()).sort() };
    if (cmd.verb !== 'call') {
      await reflection.fileContainingSymbol(cmd.symbol!); // throws when the server does not know it
      return { messages: [] };
    }
    const [serviceName, methodName] = cmd.symbol!.split('/') as [string, string];
    const files = await reflection.resolve(serviceName);
    // grpcurl resolves the payloads of google.protobuf.Any (the error details of
    // BatchGetStockLevels) through reflection as well.
    await reflection.resolve('google.rpc.ErrorInfo', files);
    // Dependencies first, as a FileDescriptorSet from protoc would list them.
    const ordered: FileDescriptorProto[] = [];
    const visit = (name: string) => {
      const f = files.get(name);
      if (f === undefined || ordered.includes(f)) return;
      for (const dep of f.dependency) visit(dep);
      ordered.push(f);
    };
    for (const name of files.keys()) visit(name);
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
    const method = registry.getService(serviceName)?.methods.find((m) => m.name === methodName);
    if (method === undefined) throw new Error(`${cmd.symbol}: no such method`);
    return await call(address, method, cmd, registry);
  } finally {
    reflection.close();
  }
}

async function call(address: string, method: DescMethod, cmd: Parsed, registry: ReturnType<typeof createFileRegistry>): Promise<GrpcurlOutcome> {
  // grpcurl reads -d as a sequence of JSON messages: one for a unary call, any number for a client stream.
  const requests = (cmd.data === undefined ? [{}] : jsonSequence(cmd.data)).map((j) => fromJson(method.input, j, { registry }));
  const request = requests[0] ?? fromJson(method.input, {}, { registry });
  const metadata = new Metadata();
  for (const [k, v] of cmd.headers) metadata.add(k, v);
  const deadline = cmd.maxTimeSeconds === undefined ? Infinity : Date.now() + cmd.maxTimeSeconds * 1000;
  const path = `/${method.parent.typeName}/${method.name}`;
  const serialize = (m: typeof request) => Buffer.from(toBinary(method.input, m));
  const deserialize = (b: Buffer) => fromBinary(method.output, b);
  const print = (m: ReturnType<typeof deserialize>) => toJson(method.output, m, { registry });
  const client = new Client(address, credentials.createInsecure());
  const messages: JsonValue[] = [];
  const failed = (err: ServiceError): GrpcurlOutcome => ({ messages, error: { code: goCodeName(err.code), message: err.details } });
  try {
    return await new Promise<GrpcurlOutcome>((resolve) => {
      if (method.methodKind === 'unary') {
        client.makeUnaryRequest(path, serialize, deserialize, request, metadata, { deadline }, (err, res) => {
          if (err) resolve(failed(err));
          else resolve({ messages: [print(res!)] });
        });
        return;
      }
      if (method.methodKind === 'client_streaming') {
        const call = client.makeClientStreamRequest(path, serialize, deserialize, metadata, { deadline }, (err, res) => {
          if (err) resolve(failed(err));
          else resolve({ messages: [print(res!)] });
        });
        for (const r of requests) call.write(r);
        call.end();
        return;
      }
      const stream = client.makeServerStreamRequest(path, serialize, deserialize, request, metadata, { deadline });
      stream.on('data', (m: ReturnType<typeof deserialize>) => messages.push(print(m)));
      stream.on('error', (err: ServiceError) => resolve(failed(err)));
      stream.on('end', () => resolve({ messages }));
    });
  } finally {
    client.close();
  }
}

const run = promisify(execFile);

/** The real grpcurl, when it is on PATH. */
export function grpcurlBinary(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v grpcurl'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Splits grpcurl's output (JSON messages one after another) into values. */
export function jsonSequence(text: string): JsonValue[] {
  const out: JsonValue[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') {
      if (depth++ === 0) start = i;
    } else if (ch === '}' || ch === ']') {
      if (--depth === 0) out.push(JSON.parse(text.slice(start, i + 1)) as JsonValue);
    }
  }
  return out;
}

/** Runs the command with the real grpcurl binary and reads its output the same way. */
export async function realGrpcurl(binary: string, words: readonly string[], address: string): Promise<GrpcurlOutcome> {
  const args = words.slice(1).map((w) => (/^localhost:\d+$/.test(w) || /^127\.0\.0\.1:\d+$/.test(w) ? address : w));
  const result = await run(binary, args, { maxBuffer: 16 * 1024 * 1024 }).then(
    ({ stdout }) => ({ stdout, stderr: '' }),
    (err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? 'failed' }),
  );
  const parsed = parse(words);
  if (parsed.verb === 'list' && parsed.symbol === undefined) return { messages: [], listed: result.stdout.trim().split('\n').sort() };
  const code = /Code: (\w+)/.exec(result.stderr)?.[1];
  const message = /Message: (.*)/.exec(result.stderr)?.[1];
  const messages = parsed.verb === 'call' ? jsonSequence(result.stdout) : [];
  if (code !== undefined) return { messages, error: { code, message: message ?? '' } };
  if (result.stderr !== '') throw new Error(`grpcurl ${args.join(' ')}: ${result.stderr}`);
  return { messages };
}
