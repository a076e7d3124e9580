import type { Logger } from '../log.js';
import type { EmbeddedDynamoKind } from './dynamodb-kind.js';
import type { DynamoLocalJit } from './dynamodb-local.js';
import { javaMajorVersion } from './java.js';

/** DynamoDB Local 3.x runs on Java 17 or newer. */
const JAVA_MIN = 17;

/** An embedded DynamoDB API server, whichever implementation. */
export interface EmbeddedDynamoServer {
  readonly endpoint: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Resolves `auto`: Amazon DynamoDB Local where a Java 17+ runtime is on PATH, else dynalite,
 * said once in the log because dynalite lacks the batched conditional writes.
 */
export async function resolveEmbeddedDynamo(
  kind: EmbeddedDynamoKind,
  log: Logger,
  java = 'java',
): Promise<Exclude<EmbeddedDynamoKind, 'auto'>> {
  if (kind === 'dynalite') return kind;
  const major = await javaMajorVersion(java);
  const found = major === undefined ? 'no java on PATH' : `java ${major}`;
  if (major !== undefined && major >= JAVA_MIN) return 'dynamodb-local';
  if (kind === 'dynamodb-local') {
    throw new Error(`EMBEDDED_DYNAMODB=dynamodb-local needs a Java ${JAVA_MIN}+ runtime (\`java -version\`); found ${found}`);
  }
  log.warn(
    { found, embeddedDynamodb: 'dynalite' },
    `no Java ${JAVA_MIN}+ for DynamoDB Local: the embedded DynamoDB is dynalite, which has no batched conditional writes, so the relay appends one PutItem per event (slower appends, more CPU per event)`,
  );
  return 'dynalite';
}

/** Creates (does not start) the embedded DynamoDB of this kind; the server modules load only here. */
export async function createEmbeddedDynamo(
  kind: Exclude<EmbeddedDynamoKind, 'auto'>,
  options: { dataDir: string | undefined; port: number; log: Logger; jit?: DynamoLocalJit },
): Promise<EmbeddedDynamoServer> {
  if (kind === 'dynamodb-local') {
    const { EmbeddedDynamoLocal } = await import('./dynamodb-local.js');
    return new EmbeddedDynamoLocal(options);
  }
  const { EmbeddedDynamo } = await import('./dynamodb.js');
  return new EmbeddedDynamo(options);
}
