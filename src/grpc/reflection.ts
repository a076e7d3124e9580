import type { Server, ServerDuplexStream, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { createFileRegistry, fromBinary, toBinary, type DescFile, type FileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { descriptorSetBase64 } from '../gen/descriptor-set.js';
import {
  ServerReflectionService as ReflectionV1,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from '../gen/grpc/reflection/v1/reflection.js';
import { ServerReflectionService as ReflectionV1Alpha } from '../gen/grpc/reflection/v1alpha/reflection.js';

/**
 * gRPC server reflection (v1 and v1alpha) answered from the FileDescriptorSet that buf
 * builds from proto/, imports included. We do not use @grpc/reflection 1.0.4: it serves
 * descriptors without their dependency lists and breaks on files that import others or
 * have map fields (grpc-node issues 3018, 3034), so grpcurl cannot describe our services.
 * Serving the compiler's own descriptors byte for byte avoids the whole class of bugs.
 */
export class ReflectionIndex {
  private readonly registry: FileRegistry;
  private readonly encoded = new Map<string, Uint8Array>();

  constructor(private readonly services: readonly string[], descriptorSet: Uint8Array = Buffer.from(descriptorSetBase64, 'base64')) {
    const set = fromBinary(FileDescriptorSetSchema, descriptorSet);
    this.registry = createFileRegistry(set);
    for (const file of set.file) this.encoded.set(file.name, toBinary(FileDescriptorProtoSchema, file));
  }

  listServices(): readonly string[] {
    return this.services;
  }

  /** The file and everything it imports, transitively, the file itself first. */
  private withDependencies(file: DescFile): Uint8Array[] {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (f: DescFile) => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      const bytes = this.encoded.get(f.proto.name);
      if (bytes) out.push(bytes);
      for (const dep of f.dependencies) visit(dep);
    };
    visit(file);
    return out;
  }

  fileByName(name: string): Uint8Array[] | undefined {
    const file = this.registry.getFile(name);
    return file ? this.withDependencies(file) : undefined;
  }

  /** Messages, enums, services, extensions, and members of them (methods, fields, values). */
  fileContainingSymbol(symbol: string): Uint8Array[] | undefined {
    const direct = this.registry.get(symbol);
    if (direct) return this.withDependencies(direct.file);
    const dot = symbol.lastIndexOf('.');
    if (dot < 0) return undefined;
    const parent = this.registry.get(symbol.slice(0, dot));
    if (parent === undefined) return undefined;
    const member = symbol.slice(dot + 1);
    const owns =
      (parent.kind === 'service' && parent.methods.some((m) => m.name === member)) ||
      (parent.kind === 'message' && parent.fields.some((f) => f.name === member)) ||
      (parent.kind === 'enum' && parent.values.some((v) => v.name === member));
    return owns ? this.withDependencies(parent.file) : undefined;
  }

  fileContainingExtension(containingType: string, number: number): Uint8Array[] | undefined {
    const message = this.registry.getMessage(containingType);
    if (!message) return undefined;
    const ext = this.registry.getExtensionFor(message, number);
    return ext ? this.withDependencies(ext.file) : undefined;
  }

  extensionNumbers(typeName: string): number[] | undefined {
    if (!this.registry.getMessage(typeName)) return undefined;
    const numbers: number[] = [];
    for (const desc of this.registry) if (desc.kind === 'extension' && desc.extendee.typeName === typeName) numbers.push(desc.number);
    return numbers;
  }

  answer(req: ServerReflectionRequest): ServerReflectionResponse {
    const base = { validHost: req.host, originalRequest: req };
    const notFound = (what: string): ServerReflectionResponse => ({
      ...base,
      messageResponse: { $case: 'errorResponse', value: { errorCode: status.NOT_FOUND, errorMessage: `${what} not found` } },
    });
    const files = (found: Uint8Array[] | undefined, what: string): ServerReflectionResponse =>
      found === undefined
        ? notFound(what)
        : { ...base, messageResponse: { $case: 'fileDescriptorResponse', value: { fileDescriptorProto: found.map((b) => Buffer.from(b)) } } };
    const r = req.messageRequest;
    switch (r?.$case) {
      case 'listServices':
        return { ...base, messageResponse: { $case: 'listServicesResponse', value: { service: this.services.map((name) => ({ name })) } } };
      case 'fileByFilename':
        return files(this.fileByName(r.value), `file ${r.value}`);
      case 'fileContainingSymbol':
        return files(this.fileContainingSymbol(r.value), `symbol ${r.value}`);
      case 'fileContainingExtension':
        return files(
          this.fileContainingExtension(r.value.containingType, r.value.extensionNumber),
          `extension ${r.value.containingType}(${r.value.extensionNumber})`,
        );
      case 'allExtensionNumbersOfType': {
        const numbers = this.extensionNumbers(r.value);
        return numbers === undefined
          ? notFound(`type ${r.value}`)
          : { ...base, messageResponse: { $case: 'allExtensionNumbersResponse', value: { baseTypeName: r.value, extensionNumber: numbers } } };
      }
      case undefined:
        return { ...base, messageResponse: { $case: 'errorResponse', value: { errorCode: status.INVALID_ARGUMENT, errorMessage: 'message_request is empty' } } };
      default: {
        const never: never = r;
        return never;
      }
    }
  }
}

/** Registers grpc.reflection.v1 and v1alpha (same messages, different package). */
export function addReflection(server: Server, index: ReflectionIndex): void {
  const handler = (call: ServerDuplexStream<ServerReflectionRequest, ServerReflectionResponse>) => {
    call.on('data', (req: ServerReflectionRequest) => call.write(index.answer(req)));
    call.on('end', () => call.end());
    call.on('error', () => undefined);
  };
  const impl: UntypedServiceImplementation = { serverReflectionInfo: handler };
  server.addService(ReflectionV1 as unknown as ServiceDefinition, impl);
  server.addService(ReflectionV1Alpha as unknown as ServiceDefinition, impl);
}


