import { credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, type FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import {
  ServerReflectionClient as V1Client,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from '../../src/gen/grpc/reflection/v1/reflection.js';
import { ServerReflectionClient as V1AlphaClient } from '../../src/gen/grpc/reflection/v1alpha/reflection.js';

export type ReflectionVersion = 'v1' | 'v1alpha';

/**
 * A gRPC reflection client doing what grpcurl does: one bidirectional stream, requests
 * answered in order; descriptors fetched by symbol, then every import by file name.
 */
export class ReflectionClient {
  private readonly client: InstanceType<typeof V1Client>;
  private readonly stream: ClientDuplexStream<ServerReflectionRequest, ServerReflectionResponse>;
  private readonly waiting: Array<{ resolve(r: ServerReflectionResponse): void; reject(e: Error): void }> = [];

  constructor(address: string, version: ReflectionVersion) {
    const Ctor = version === 'v1' ? V1Client : (V1AlphaClient as unknown as typeof V1Client);
    this.client = new Ctor(address, credentials.createInsecure());
    this.stream = this.client.serverReflectionInfo();
    this.stream.on('data', (r: ServerReflectionResponse) => this.waiting.shift()?.resolve(r));
    this.stream.on('error', (e: Error) => {
      for (const w of this.waiting.splice(0)) w.reject(e);
    });
  }

  request(messageRequest: NonNullable<ServerReflectionRequest['messageRequest']>): Promise<ServerReflectionResponse> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.stream.write({ host: '', messageRequest });
    });
  }

  async listServices(): Promise<string[]> {
    const r = await this.request({ $case: 'listServices', value: '' });
    if (r.messageResponse?.$case !== 'listServicesResponse') throw new Error(`unexpected answer ${JSON.stringify(r.messageResponse)}`);
    return r.messageResponse.value.service.map((s) => s.name);
  }

  private async files(messageRequest: NonNullable<ServerReflectionRequest['messageRequest']>): Promise<FileDescriptorProto[]> {
    const r = await this.request(messageRequest);
    const m = r.messageResponse;
    if (m?.$case === 'errorResponse') throw new Error(`reflection error ${m.value.errorCode}: ${m.value.errorMessage}`);
    if (m?.$case !== 'fileDescriptorResponse') throw new Error(`unexpected answer ${JSON.stringify(m)}`);
    return m.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
  }

  fileContainingSymbol(symbol: string): Promise<FileDescriptorProto[]> {
    return this.files({ $case: 'fileContainingSymbol', value: symbol });
  }

  fileByFilename(name: string): Promise<FileDescriptorProto[]> {
    return this.files({ $case: 'fileByFilename', value: name });
  }

  /**
   * The files that define `symbol` and everything they import, transitively, keyed by
   * file name. Imports the server did not send along are asked for by name, as grpcurl does.
   */
  async resolve(symbol: string, into = new Map<string, FileDescriptorProto>()): Promise<Map<string, FileDescriptorProto>> {
    const add = async (files: FileDescriptorProto[]) => {
      for (const f of files) into.set(f.name, f);
      for (const f of files) {
        for (const dep of f.dependency) if (!into.has(dep)) await add(await this.fileByFilename(dep));
      }
    };
    await add(await this.fileContainingSymbol(symbol));
    return into;
  }

  close(): void {
    this.stream.end();
    this.client.close();
  }
}
