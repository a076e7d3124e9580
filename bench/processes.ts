import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { credentials } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus, HealthClient } from '../src/gen/grpc/health/v1/health.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Until the gRPC server at `address` answers its health check SERVING, or `timeoutMs` passes. */
export async function waitServing(address: string, timeoutMs: number): Promise<void> {
  const health = new HealthClient(address, credentials.createInsecure());
  try {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) =>
        health.check({ service: '' }, (err, res) => resolve(!err && res?.status === HealthCheckResponse_ServingStatus.SERVING)),
      );
      if (ok) return;
      if (Date.now() > until) throw new Error(`${address} not serving`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    health.close();
  }
}

/** A node child process of this bench; `firstLine` is the first line it prints. */
export function startChild(args: string[], env: Record<string, string>): { child: ChildProcess; firstLine: Promise<string> } {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const firstLine = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const i = out.indexOf('\n');
      if (i >= 0) resolve(out.slice(0, i).trim());
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return { child, firstLine };
}

/** SIGTERM, then wait for the exit (at most 15 s: a child that hangs must not hang the bench). */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
}

const RUN = Date.now().toString(36);

/** This run's id: names what a run makes on servers that outlive it (tables, databases). */
export function runId(): string {
  return RUN;
}

/**
 * The event table a bench's service writes to: a new name per run, so a DynamoDB API that
 * outlives the run (`BENCH_DYNAMODB_TARGET`, bench/dynamodb-server.ts) never hands a run the
 * streams of an earlier one, which would refuse its events as conflicts.
 */
export function eventsTable(name: string): string {
  return `bench-${name}-${RUN}`;
}

/** What bench/dynamodb-server.ts adds to the server kind it prints when BENCH_EVENT_STORE=stub. */
export const STUBBED = '+stubbed-appends';

/** The server kind bench/dynamodb-server.ts prints when it forwards to BENCH_DYNAMODB_TARGET: `remote:host:port`. */
export const REMOTE = 'remote:';

/** The line a bench prints under its ratios when its event store was stubbed or elsewhere (empty otherwise). */
export function eventStoreNote(dynamoKind: string): string {
  if (dynamoKind.endsWith(STUBBED)) {
    return `(BENCH_EVENT_STORE=stub: the appends answered from memory, an estimate of the event store off this machine, not the targets' measure)\n`;
  }
  if (dynamoKind.startsWith(REMOTE)) {
    return `(BENCH_DYNAMODB_TARGET: the DynamoDB API at ${dynamoKind.slice(REMOTE.length)}; its CPU is not counted here, only the bench's proxy's: off this machine only when that host is another one)\n`;
  }
  return '';
}

/** What the bench's DynamoDB process is, for its CPU column: the API itself, or only the proxy in front of one elsewhere. */
export function dynamoCpuLabel(dynamoKind: string): string {
  return dynamoKind.startsWith(REMOTE) ? 'DynamoDB proxy' : 'DynamoDB API';
}
