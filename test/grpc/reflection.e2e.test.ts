import { create, createFileRegistry, ScalarType, type DescMessage, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema, type DescriptorProto, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { expect } from 'chai';
import { startTestApp, type TestApp } from '../support/app.js';
import { ReflectionClient, type ReflectionVersion } from '../support/reflection-client.js';

/** Every type name a file refers to: field types, method inputs and outputs. */
function referencedTypes(file: FileDescriptorProto): string[] {
  const out: string[] = [];
  const visit = (m: DescriptorProto) => {
    for (const f of m.field) if (f.typeName !== '') out.push(f.typeName);
    m.nestedType.forEach(visit);
  };
  file.messageType.forEach(visit);
  for (const s of file.service) for (const m of s.method) out.push(m.inputType, m.outputType);
  return out;
}

/** Every fully qualified type a file defines (`.pkg.Msg`, `.pkg.Msg.Nested`, map entries included). */
function definedTypes(file: FileDescriptorProto): string[] {
  const out: string[] = [];
  const visit = (prefix: string, messages: DescriptorProto[], enums: { name: string }[]) => {
    for (const e of enums) out.push(`${prefix}.${e.name}`);
    for (const m of messages) {
      out.push(`${prefix}.${m.name}`);
      visit(`${prefix}.${m.name}`, m.nestedType, m.enumType);
    }
  };
  visit(file.package === '' ? '' : `.${file.package}`, file.messageType, file.enumType);
  return out;
}

/**
 * A registry of the file that `ReflectionClient.resolve` fetched first (the one defining the
 * symbol) and its imports; throws if any import is missing or any type name fails to resolve.
 */
function registryOf(files: Map<string, FileDescriptorProto>): FileRegistry {
  // Imports first: the FileDescriptorSet form of createFileRegistry needs that order (its
  // (file, resolve) form mis-orders diamond imports in @bufbuild/protobuf 2.17.0).
  const ordered: FileDescriptorProto[] = [];
  const visit = (name: string, importer: string) => {
    const file = files.get(name);
    if (file === undefined) throw new Error(`${importer} imports ${name}, which reflection did not serve`);
    if (ordered.includes(file)) return;
    for (const dep of file.dependency) visit(dep, name);
    ordered.push(file);
  };
  const [root] = files.keys();
  if (root === undefined) throw new Error('no files');
  visit(root, 'the request');
  return createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
}

/** Every message reachable from `root` through fields, `root` included. */
function reachable(root: DescMessage, seen = new Map<string, DescMessage>()): Map<string, DescMessage> {
  if (seen.has(root.typeName)) return seen;
  seen.set(root.typeName, root);
  for (const f of root.fields) {
    if (f.fieldKind === 'message' || (f.fieldKind === 'list' && f.listKind === 'message') || (f.fieldKind === 'map' && f.mapKind === 'message')) {
      reachable(f.message, seen);
    }
  }
  return seen;
}

/**
 * What grpcurl needs from reflection, checked generically for every listed service (so
 * services added later are covered): descriptors for each service with all their imports,
 * from which every method and every field type resolves.
 */
for (const version of ['v1', 'v1alpha'] as const satisfies readonly ReflectionVersion[]) {
  describe(`server reflection ${version} (e2e)`, () => {
    let t: TestApp;
    let reflection: ReflectionClient;
    let services: string[];
    const registries = new Map<string, FileRegistry>();

    before(async () => {
      t = await startTestApp();
      reflection = new ReflectionClient(t.address, version);
      services = await reflection.listServices();
      for (const service of services) {
        registries.set(service, registryOf(await reflection.resolve(service)));
      }
    });
    after(async () => {
      reflection.close();
      await t.stop();
    });

    it('lists the API, health and reflection services', () => {
      expect(services).to.include.members([
        'inventory.v1.InventoryService',
        'grpc.health.v1.Health',
        'grpc.reflection.v1.ServerReflection',
        'grpc.reflection.v1alpha.ServerReflection',
      ]);
    });

    it('resolves every method and every field type of every service from the served files', () => {
      for (const service of services) {
        const registry = registries.get(service)!;
        const desc = registry.getService(service);
        expect(desc, service).to.not.equal(undefined);
        expect(desc!.methods.length, service).to.be.greaterThan(0);
        // The raw check grpcurl's descriptor linking does: every type name is fully qualified
        // and defined by one of the served files (the file itself or one it imports).
        const defined = new Set([...registry.files].flatMap((f) => definedTypes(f.proto)));
        for (const file of registry.files) {
          for (const name of referencedTypes(file.proto)) {
            expect(name, `${file.name}: ${name}`).to.match(/^\./);
            expect(defined.has(name), `${file.name} refers to ${name}`).to.equal(true);
          }
        }
        for (const method of desc!.methods) {
          for (const message of reachable(method.input, reachable(method.output)).values()) {
            for (const f of message.fields) {
              const where = `${service}/${method.name} ${message.typeName}.${f.name}`;
              if (f.fieldKind === 'enum') expect(f.enum.values.length, where).to.be.greaterThan(0);
              if (f.fieldKind === 'message') expect(registry.getMessage(f.message.typeName), where).to.not.equal(undefined);
            }
          }
        }
      }
    });

    it('covers well-known types, google.rpc.Status, enums, oneofs and streaming methods', () => {
      const inv = registries.get('inventory.v1.InventoryService')!;
      const field = (message: string, name: string) => {
        const f = inv.getMessage(message)?.fields.find((x) => x.name === name);
        if (!f) throw new Error(`no field ${message}.${name}`);
        return f;
      };
      const startTime = field('inventory.v1.ListStockMovementsRequest', 'start_time');
      expect(startTime.fieldKind === 'message' && startTime.message.typeName).to.equal('google.protobuf.Timestamp');
      const ttl = field('inventory.v1.AllocateStockRequest', 'ttl');
      expect(ttl.fieldKind === 'message' && ttl.message.typeName).to.equal('google.protobuf.Duration');
      const error = field('inventory.v1.BatchGetStockLevelsResult', 'error');
      expect(error.fieldKind === 'message' && error.message.typeName).to.equal('google.rpc.Status');
      expect(error.oneof?.name).to.equal('result');
      const statusDetails = inv.getMessage('google.rpc.Status')!.fields.find((f) => f.name === 'details')!;
      expect(statusDetails.fieldKind === 'list' && statusDetails.listKind === 'message' && statusDetails.message.typeName).to.equal('google.protobuf.Any');
      const st = field('inventory.v1.Allocation', 'status');
      expect(st.fieldKind === 'enum' && st.enum.values.map((v) => v.name)).to.include('ALLOCATION_STATUS_ALLOCATED');
      const kinds = inv.getService('inventory.v1.InventoryService')!.methods;
      expect(kinds.filter((m) => m.methodKind !== 'unary').map((m) => [m.name, m.methodKind])).to.deep.equal([['ImportStockCounts', 'client_streaming']]);

      const health = registries.get('grpc.health.v1.Health')!.getService('grpc.health.v1.Health')!;
      expect(health.methods.find((m) => m.name === 'Watch')?.methodKind).to.equal('server_streaming');
      const refl = registries.get(`grpc.reflection.${version}.ServerReflection`)!.getService(`grpc.reflection.${version}.ServerReflection`)!;
      expect(refl.methods[0]?.methodKind).to.equal('bidi_streaming');
    });

    it('serves the error detail types, map fields included, so grpcurl can print error details', async () => {
      const registry = registryOf(await reflection.resolve('google.rpc.ErrorInfo'));
      const metadata = registry.getMessage('google.rpc.ErrorInfo')!.fields.find((f) => f.name === 'metadata')!;
      expect(metadata.fieldKind).to.equal('map');
      expect(metadata.fieldKind === 'map' && [metadata.mapKey, metadata.mapKind]).to.deep.equal([ScalarType.STRING, 'scalar']);
      expect(registry.getMessage('google.rpc.BadRequest.FieldViolation')).to.not.equal(undefined);
    });

    it('answers symbols of methods, fields and enum values, and reports unknown ones as NOT_FOUND', async () => {
      for (const symbol of ['inventory.v1.InventoryService.GetItem', 'inventory.v1.Warehouse.code', 'inventory.v1.AllocationStatus.ALLOCATION_STATUS_RELEASED']) {
        const files = await reflection.fileContainingSymbol(symbol);
        expect(files[0]?.package, symbol).to.equal('inventory.v1');
      }
      const r = await reflection.request({ $case: 'fileContainingSymbol', value: 'inventory.v1.Nope' });
      expect(r.messageResponse?.$case).to.equal('errorResponse');
      expect(r.messageResponse?.$case === 'errorResponse' && r.messageResponse.value.errorCode).to.equal(5);
    });
  });
}
