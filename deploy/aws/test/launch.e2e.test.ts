import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { REPO } from './support.ts';

const run = promisify(execFile);
const LAUNCH = path.join(REPO, 'docker/launch.mjs');

describe('docker/launch.mjs', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launch-'));
  const probe = path.join(dir, 'probe.mjs');
  fs.writeFileSync(
    probe,
    "process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), url: process.env.DATABASE_URL, listen: process.env.DATABASE_LISTEN_URL, main: process.argv[1] }));\n",
  );
  const env = { PATH: process.env.PATH, DATABASE_HOST: 'db', DATABASE_PROXY_HOST: 'proxy', DATABASE_USER: 'u', DATABASE_PASSWORD: 'p w', DATABASE_URL_PARAMS: 'sslmode=verify-full' };

  it('runs the module in-process with its own argv and the database URLs added', async () => {
    const { stdout } = await run(process.execPath, [LAUNCH, probe, 'verify', '--x'], { env });
    const seen = JSON.parse(stdout) as { argv: string[]; url: string; listen: string; main: string };
    assert.deepEqual(seen.argv, ['verify', '--x']);
    assert.equal(seen.main, probe);
    assert.equal(seen.url, 'postgresql://u:p%20w@proxy:5432/inventory?sslmode=verify-full');
    assert.equal(seen.listen, 'postgresql://u:p%20w@db:5432/inventory?sslmode=verify-full');
  });

  it('exits 2 with a message when the credentials are missing', async () => {
    await assert.rejects(run(process.execPath, [LAUNCH, probe], { env: { PATH: process.env.PATH, DATABASE_HOST: 'db' } }), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr ?? '', /DATABASE_USER or DATABASE_PASSWORD/);
      return true;
    });
  });
});
