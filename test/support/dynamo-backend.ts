import { createEmbeddedDynamo, resolveEmbeddedDynamo, type EmbeddedDynamoServer } from '../../src/embedded/dynamodb-choice.js';
import { EMBEDDED_DYNAMO_KINDS, type EmbeddedDynamoKind } from '../../src/embedded/dynamodb-kind.js';
import { createLogger } from '../../src/log.js';

const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
let resolved: Promise<Exclude<EmbeddedDynamoKind, 'auto'>> | undefined;

/**
 * The DynamoDB API of this test run, from EMBEDDED_DYNAMODB like the service's: auto (the
 * default) is Amazon DynamoDB Local where Java 17+ is found; `make test` also runs the event
 * store tests with EMBEDDED_DYNAMODB=dynalite.
 */
export function testDynamoKind(): Promise<Exclude<EmbeddedDynamoKind, 'auto'>> {
  const wanted = process.env.EMBEDDED_DYNAMODB ?? 'auto';
  if (!(EMBEDDED_DYNAMO_KINDS as readonly string[]).includes(wanted)) throw new Error(`EMBEDDED_DYNAMODB=${wanted} is not one of ${EMBEDDED_DYNAMO_KINDS.join(', ')}`);
  resolved ??= resolveEmbeddedDynamo(wanted as EmbeddedDynamoKind, log);
  return resolved;
}

/** A DynamoDB API server of this run's kind for a test that stops and restarts its own. */
export async function newTestDynamo(options: { dataDir: string | undefined; port: number }): Promise<EmbeddedDynamoServer> {
  return createEmbeddedDynamo(await testDynamoKind(), { ...options, log });
}
