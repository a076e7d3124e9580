import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { credentials, Metadata } from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus, HealthClient } from '../../src/gen/grpc/health/v1/health.js';

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface ServiceProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the real service binary (`node dist/src/main.js`, in `cwd`) with the given environment. */
export function spawnService(env: Record<string, string>, cwd?: string): ServiceProcess {
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd,
    env: { ...process.env, LOG_LEVEL: 'info', METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exited };
}

/** Resolves once grpc.health.v1 reports SERVING at `address`, or rejects after `ms`. */
export async function waitServing(address: string, ms = 60_000, exited?: Promise<unknown>): Promise<void> {
  const client = new HealthClient(address, credentials.createInsecure());
  const until = Date.now() + ms;
  let dead = false;
  void exited?.then(() => (dead = true));
  try {
    for (;;) {
      if (dead) throw new Error('the service exited before it was serving');
      const st = await new Promise<number | undefined>((resolve) =>
        client.check({ service: '' }, new Metadata(), { deadline: Date.now() + 1000 }, (err, res) => resolve(err ? undefined : res.status)),
      );
      if (st === HealthCheckResponse_ServingStatus.SERVING) return;
      if (Date.now() > until) throw new Error(`not serving after ${ms} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.close();
  }
}
