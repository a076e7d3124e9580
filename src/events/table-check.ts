import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { Logger } from '../log.js';
import { eventTableDefinition } from './dynamo-schema.js';

/** The service refuses to start: the event table is not what `provision` makes. */
export class EventTableError extends Error {
  override name = 'EventTableError';
}

const PROVISION_HINT = 'create or fix it with `make provision` (npm run admin -- provision) using the same environment';

/**
 * What is wrong with a table's key schema compared with the event table's definition, or
 * undefined when it matches: the partition and sort keys, their names and their types.
 */
export function keySchemaProblem(table: TableDescription): string | undefined {
  const want = eventTableDefinition(table.TableName ?? '');
  const describe = (keys: ReadonlyArray<{ AttributeName?: string; KeyType?: string }>, types: ReadonlyArray<{ AttributeName?: string; AttributeType?: string }>) =>
    keys
      .map((k) => `${k.AttributeName ?? '?'} ${k.KeyType ?? '?'} ${types.find((t) => t.AttributeName === k.AttributeName)?.AttributeType ?? '?'}`)
      .join(', ');
  const expected = describe(want.KeySchema, want.AttributeDefinitions);
  const actual = describe(table.KeySchema ?? [], table.AttributeDefinitions ?? []);
  return expected === actual ? undefined : `key schema is [${actual}], expected [${expected}]`;
}

/**
 * The production start-up check: the event table exists, is ACTIVE and has the event
 * table's key schema. The service never creates it in production (its role has no
 * dynamodb:CreateTable); `provision` does, with TTL and point-in-time recovery.
 */
export async function checkEventTable(client: DynamoDBClient, table: string): Promise<void> {
  let description: TableDescription | undefined;
  try {
    description = (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
  } catch (err) {
    if (err instanceof ResourceNotFoundException) {
      throw new EventTableError(`the event table ${table} does not exist; ${PROVISION_HINT}`);
    }
    throw err;
  }
  if (description === undefined) throw new EventTableError(`DescribeTable returned no description of ${table}; ${PROVISION_HINT}`);
  if (description.TableStatus !== 'ACTIVE') {
    throw new EventTableError(`the event table ${table} is ${description.TableStatus ?? 'in an unknown state'}, not ACTIVE; wait for it or ${PROVISION_HINT}`);
  }
  const problem = keySchemaProblem(description);
  if (problem !== undefined) {
    throw new EventTableError(`the event table ${table} is not an event table: ${problem}; point EVENTS_TABLE at the right table or ${PROVISION_HINT}`);
  }
}

/** Resolves once the table is ACTIVE; returns its description. */
export async function waitActive(client: DynamoDBClient, table: string, attempts = 240): Promise<TableDescription> {
  for (let i = 0; ; i++) {
    const d = (await client.send(new DescribeTableCommand({ TableName: table }))).Table;
    if (d?.TableStatus === 'ACTIVE') return d;
    if (i >= attempts) throw new Error(`table ${table} did not become ACTIVE (${d?.TableStatus ?? 'no status'})`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Development only: creates the table (on-demand capacity) if it does not exist. */
export async function ensureEventTable(client: DynamoDBClient, table: string, log: Logger): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  try {
    await client.send(new CreateTableCommand(eventTableDefinition(table)));
    log.info({ table }, 'created the event table');
  } catch (err) {
    // Another instance created it first.
    if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
  }
  await waitActive(client, table, 120);
}
