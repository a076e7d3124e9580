import { execFile } from 'node:child_process';

/**
 * The major version of the `java` on PATH (8 for "1.8.0_x", 17 for "17.0.15"), or undefined
 * when there is none. `java -version` prints to stderr.
 */
export function javaMajorVersion(command = 'java'): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile(command, ['-version'], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) return resolve(undefined);
      resolve(parseJavaVersion(`${stderr}\n${stdout}`));
    });
  });
}

export function parseJavaVersion(text: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  const major = Number(m[1]);
  return major === 1 ? Number(m[2]) : major;
}
