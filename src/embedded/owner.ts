import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * `<data dir>.owner`: which process runs an embedded server and where it listens. A
 * server whose owner is alive belongs to a running service and is never stopped by
 * anyone else; operator commands attach to it instead of starting their own.
 */
export interface Owner {
  readonly pid: number;
  readonly address: string;
}

/** An embedded server's data directory belongs to another live process (a running service). */
export class EmbeddedInUseError extends Error {
  override name = 'EmbeddedInUseError';
  constructor(
    what: string,
    readonly dataDir: string,
    readonly owner: Owner,
  ) {
    super(
      `the embedded ${what} in ${dataDir} is in use by process ${owner.pid} (a running \`make run\`?): ` +
        'stop that process first or use another DATA_DIR; verify, rebuild and migrate attach to it instead',
    );
  }
}

export const ownerFile = (dataDir: string): string => `${path.resolve(dataDir)}.owner`;

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, but another user's
  }
}

export async function writeOwner(dataDir: string, address: string): Promise<void> {
  const owner: Owner = { pid: process.pid, address };
  // 0600: the address of the embedded PostgreSQL carries its (development) password.
  await fs.writeFile(ownerFile(dataDir), `${JSON.stringify(owner)}\n`, { mode: 0o600 });
}

/** The recorded owner, if that process is alive and is not this one. */
export async function liveOwner(dataDir: string): Promise<Owner | undefined> {
  let owner: Partial<Owner>;
  try {
    owner = JSON.parse(await fs.readFile(ownerFile(dataDir), 'utf8')) as Partial<Owner>;
  } catch {
    return undefined;
  }
  if (typeof owner.pid !== 'number' || typeof owner.address !== 'string') return undefined;
  if (owner.pid === process.pid || !isAlive(owner.pid)) return undefined;
  return { pid: owner.pid, address: owner.address };
}

/** Removes the record if this process wrote it. */
export async function removeOwner(dataDir: string): Promise<void> {
  try {
    const owner = JSON.parse(await fs.readFile(ownerFile(dataDir), 'utf8')) as Partial<Owner>;
    if (owner.pid === process.pid) await fs.rm(ownerFile(dataDir), { force: true });
  } catch {
    // nothing recorded
  }
}
