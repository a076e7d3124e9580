import fs from 'node:fs/promises';
import path from 'node:path';

/** The first directory on the way to `target` that `who` cannot traverse, if any. */
export async function unreachableAncestor(target: string, who: { uid: number; gid: number }): Promise<string | undefined> {
  const parts: string[] = [];
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    parts.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of parts) {
    let st;
    try {
      st = await fs.stat(dir);
    } catch {
      return undefined; // not created yet: its parent was traversable, mkdir gives it the right owner
    }
    const bit = st.uid === who.uid ? 0o100 : st.gid === who.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return dir;
  }
  return undefined;
}

/**
 * PostgreSQL refuses to run as root, so as root the embedded server runs as the `postgres`
 * user, which must reach the binaries (copied out of a private checkout for it, see
 * `binariesRunnableBy`) and DATA_DIR. Under a private home (`/root` is mode 700) it cannot
 * reach DATA_DIR, and initdb would fail with a bare EACCES: say why and what to do instead.
 */
export async function requireReachableBy(who: { uid: number; gid: number }, targets: readonly string[]): Promise<void> {
  for (const target of targets) {
    const blocked = await unreachableAncestor(target, who);
    if (blocked !== undefined) {
      throw new Error(
        `the embedded PostgreSQL must run as the system user "postgres" (PostgreSQL refuses to run as root), ` +
          `and that user cannot enter ${blocked} on the way to ${target}. Either run as an ordinary user, ` +
          `or put the checkout and DATA_DIR under a directory others may traverse (for example /srv or /opt; ` +
          `\`chmod o+x ${blocked}\` also works but opens that directory), or set DATABASE_URL to a PostgreSQL server.`,
      );
    }
  }
}
