import type { JsonValue } from '@bufbuild/protobuf';
import { expect } from 'chai';
import { startTestApp, type TestApp } from '../support/app.js';
import { drained } from '../support/replay.js';
import { emulateGrpcurl, grpcurlBinary, jsonSequence, realGrpcurl, type GrpcurlOutcome } from '../support/grpcurl.js';
import { grpcurlCommands, grpcurlCommandsIn, WALKTHROUGH, type ReadmeCommand } from '../support/readme.js';

const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What the README shows after a command: JSON messages, then maybe `ERROR:` with a code and message. */
function shownOutcome(cmd: ReadmeCommand): { messages: JsonValue[]; error?: { code: string; message?: string }; listed?: string[] } {
  const text = cmd.shown.join('\n');
  const errorAt = text.search(/^ERROR:/m);
  const before = errorAt < 0 ? text : text.slice(0, errorAt);
  if (cmd.words.includes('list') && cmd.words.length === 4 && cmd.shown.length > 0) return { messages: [], listed: [...cmd.shown].sort() };
  const messages = jsonSequence(before);
  if (errorAt < 0) return { messages };
  const after = text.slice(errorAt);
  const code = /^\s*Code: (\w+)/m.exec(after)?.[1];
  const message = /^\s*Message: (.*)$/m.exec(after)?.[1];
  if (code === undefined) throw new Error(`README: an ERROR without a Code after ${cmd.words.join(' ')}`);
  return message === undefined ? { messages, error: { code } } : { messages, error: { code, message } };
}

/**
 * Whether `actual` has what the README shows: every shown field with its value (fields
 * left out of the README are not compared), arrays of the same length, and any
 * timestamp or UUID where the README shows one (they differ from run to run).
 */
function covers(shown: JsonValue, actual: JsonValue | undefined, at: string, problems: string[]): void {
  const wildcard = typeof shown === 'string' ? [TIMESTAMP, UUID].find((p) => p.test(shown)) : undefined;
  if (wildcard !== undefined) {
    if (typeof actual !== 'string' || !wildcard.test(actual)) problems.push(`${at}: like ${JSON.stringify(shown)}, got ${JSON.stringify(actual)}`);
  } else if (Array.isArray(shown)) {
    if (!Array.isArray(actual) || actual.length !== shown.length) problems.push(`${at}: ${shown.length} elements, got ${JSON.stringify(actual)}`);
    else shown.forEach((s, i) => covers(s, actual[i], `${at}[${i}]`, problems));
  } else if (shown !== null && typeof shown === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) problems.push(`${at}: an object, got ${JSON.stringify(actual)}`);
    else for (const [k, v] of Object.entries(shown)) covers(v, actual[k], `${at}.${k}`, problems);
  } else if (shown !== actual) problems.push(`${at}: ${JSON.stringify(shown)}, got ${JSON.stringify(actual)}`);
}

/**
 * Runs the README as a reader would: the Quick start's grpcurl commands, every command of
 * its "grpcurl" section, then the walkthrough (docs/grpcurl.md), in order, against one
 * fresh server, each through the
 * real grpcurl when it is installed, else through a reflection-only emulation of it
 * (test/support/grpcurl.ts). Each must succeed, or fail with exactly the code and message
 * shown, and print at least what the README shows.
 */
describe('README walkthrough (e2e)', function () {
  this.timeout(120_000);
  let t: TestApp;
  const binary = grpcurlBinary();
  const cmds = [...grpcurlCommands('Quick start'), ...grpcurlCommands('grpcurl'), ...grpcurlCommandsIn(WALKTHROUGH)];
  before(async () => {
    t = await startTestApp();
  });
  after(() => t?.stop());

  it('has a story to run', () => {
    expect(cmds.length).to.be.greaterThan(40);
  });

  cmds.forEach((cmd, i) => {
    const target = cmd.words.find((w) => w.includes('/')) ?? cmd.words.slice(2).filter((w) => !w.startsWith('-')).join(' ');
    it(`${i + 1}. ${target}${cmd.shown.length > 0 ? ' prints what the README shows' : ' succeeds'}`, async () => {
      // The README reader runs StreamEvents seconds after the writes; the relay's next sweep
      // has put them in the event store by then (the immediate path may still be lingering).
      if (target.includes('EventService/')) await drained(t.app);
      const actual: GrpcurlOutcome = binary === undefined ? await emulateGrpcurl(cmd.words, t.address) : await realGrpcurl(binary, cmd.words, t.address);
      const shown = shownOutcome(cmd);
      const dump = `\nactual: ${JSON.stringify(actual, null, 2)}`;
      if (shown.listed !== undefined) expect(actual.listed, dump).to.deep.equal(shown.listed);
      if (shown.error === undefined) expect(actual.error, dump).to.equal(undefined);
      else {
        expect(actual.error?.code, dump).to.equal(shown.error.code);
        if (shown.error.message !== undefined) expect(actual.error?.message, dump).to.equal(shown.error.message);
      }
      if (shown.messages.length > 0 || shown.error !== undefined) {
        expect(actual.messages.length, dump).to.equal(shown.messages.length);
        const problems: string[] = [];
        shown.messages.forEach((m, j) => covers(m, actual.messages[j], `message ${j + 1}`, problems));
        expect(problems, dump).to.deep.equal([]);
      }
    });
  });
});
