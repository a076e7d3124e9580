import { readFileSync } from 'node:fs';
import { createFileRegistry, fromBinary, fromJson, type FileRegistry, type JsonValue } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { expect } from 'chai';
import { jsonSequence } from '../support/grpcurl.js';
import { grpcurlCommands, grpcurlCommandsIn, WALKTHROUGH } from '../support/readme.js';

/** Services documented ahead of their implementation on this branch; checked once they exist. */
const PENDING_SERVICES = new Set<string>();

/** grpcurl flags that take a value (the rest used in the README are booleans). */
const VALUE_FLAGS = new Set(['-d', '-H', '-rpc-header', '-reflect-header', '-max-time', '-connect-timeout', '-cacert', '-cert', '-key', '-authority', '-format']);

/**
 * Keeps the grpcurl examples of the README and of the walkthrough (docs/grpcurl.md) true to
 * the contracts: every described symbol and every called method exists, and every request
 * body is valid proto3 JSON for its method (unknown fields rejected, as grpcurl does).
 */
describe('README grpcurl examples (unit)', () => {
  let registry: FileRegistry;
  let cmds: string[][];
  before(() => {
    registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync('src/gen/descriptors.binpb')));
    cmds = [...grpcurlCommands('grpcurl'), ...grpcurlCommandsIn(WALKTHROUGH)].map((c) => c.words);
  });

  /** A symbol of a pending service that this branch does not define yet. */
  const pending = (symbol: string) =>
    [...PENDING_SERVICES].some((s) => (symbol === s || symbol.startsWith(`${s}.`) || symbol.startsWith(`${s}/`)) && registry.get(s) === undefined);

  it('calls every RPC of every API service at least once', () => {
    const called = new Set(cmds.map((c) => c.at(-1)!).filter((s) => s.includes('/')));
    for (const desc of registry) {
      if (desc.kind !== 'service' || !desc.typeName.startsWith('inventory.')) continue;
      for (const m of desc.methods) expect(called.has(`${desc.typeName}/${m.name}`), `${desc.typeName}/${m.name}`).to.equal(true);
    }
  });

  it('names only symbols and methods that exist, with valid request JSON', () => {
    expect(cmds.length).to.be.greaterThan(20);
    for (const cmd of cmds) {
      const text = cmd.join(' ');
      const positional: string[] = [];
      let data: string | undefined;
      for (let i = 1; i < cmd.length; i++) {
        if (VALUE_FLAGS.has(cmd[i]!)) {
          if (cmd[i] === '-d') data = cmd[i + 1];
          i++;
        } else if (!cmd[i]!.startsWith('-')) positional.push(cmd[i]!);
      }
      const [address, verbOrMethod, symbol] = positional;
      expect(address, text).to.match(/^localhost:\d+$/);
      if (verbOrMethod === 'list' || verbOrMethod === 'describe') {
        if (symbol === undefined) continue;
        if (pending(symbol)) continue;
        const parent = symbol.slice(0, symbol.lastIndexOf('.'));
        const parentDesc = registry.get(parent);
        const found =
          registry.get(symbol) !== undefined ||
          (parentDesc?.kind === 'service' && parentDesc.methods.some((m) => m.name === symbol.slice(parent.length + 1)));
        expect(found, text).to.equal(true);
        continue;
      }
      if (pending(verbOrMethod!)) continue;
      const [service, methodName] = verbOrMethod!.split('/') as [string, string];
      const desc = registry.getService(service);
      const method = desc?.methods.find((m) => m.name === methodName);
      expect(method, text).to.not.equal(undefined);
      if (data !== undefined) {
        // A client stream's -d is a sequence of messages, as grpcurl reads it.
        const messages = method!.methodKind === 'client_streaming' ? jsonSequence(data) : [JSON.parse(data) as JsonValue];
        for (const m of messages) expect(() => fromJson(method!.input, m, { registry }), text).to.not.throw();
      }
    }
  });
});
