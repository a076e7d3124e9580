import { QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoClient, fromItem } from '../../src/events/dynamo-appender.js';
import type { EventEnvelope } from '../../src/events/types.js';
import { dynamoEndpoint } from './stack.js';

export function testDynamoClient(endpoint = dynamoEndpoint()) {
  return createDynamoClient({ endpoint, region: 'us-east-1', table: 'unused' });
}

/** Every event of one stream in DynamoDB, in version order. */
export async function readStream(table: string, streamId: string): Promise<EventEnvelope[]> {
  const client = testDynamoClient();
  try {
    const out = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#s = :s',
        ExpressionAttributeNames: { '#s': 'streamId' },
        ExpressionAttributeValues: { ':s': { S: streamId } },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map(fromItem);
  } finally {
    client.destroy();
  }
}

/** Every event in the table (small test tables only). */
export async function scanAll(table: string, endpoint?: string): Promise<EventEnvelope[]> {
  const client = testDynamoClient(endpoint);
  const events: EventEnvelope[] = [];
  try {
    let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
    do {
      const out = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
      for (const item of out.Items ?? []) if (!item.streamId?.S?.startsWith('snapshot#')) events.push(fromItem(item));
      start = out.LastEvaluatedKey;
    } while (start);
  } finally {
    client.destroy();
  }
  return events;
}

/** Polls until `check` passes or `ms` elapse (for asynchronous appends). */
export async function eventually<T>(check: () => Promise<T>, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
