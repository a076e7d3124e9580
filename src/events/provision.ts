import {
  CreateTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceNotFoundException,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { ATTR, eventTableDefinition, KEY } from './dynamo-schema.js';

/** Operations a DynamoDB-compatible local server (dynalite) does not have. */
function unsupported(err: unknown): boolean {
  const name = (err as { name?: string }).name ?? '';
  return name === 'UnknownOperationException' || name === 'UnrecognizedClientException' || name === 'NotImplemented';
}

/**
 * Sets up the event table for production: on-demand capacity (DynamoDB scales it, no
 * autoscaling policy needed), TTL on `expiresAt`, point-in-time recovery. Each step is
 * idempotent. Against a local DynamoDB that lacks TTL or PITR, the step says so and the
 * rest goes on. Returns the number of steps that were skipped for that reason.
 */
export async function provisionTable(client: DynamoDBClient, table: string, print: (line: string) => void): Promise<number> {
  let skipped = 0;
  try {
    const d = await client.send(new DescribeTableCommand({ TableName: table }));
    print(`table ${table} exists (${d.Table?.TableStatus}, billing ${d.Table?.BillingModeSummary?.BillingMode ?? 'PROVISIONED'})`);
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
    await client.send(
      new CreateTableCommand(eventTableDefinition(table)),
    );
    print(`created table ${table} with on-demand capacity (PAY_PER_REQUEST)`);
  }
  for (let i = 0; ; i++) {
    const d = await client.send(new DescribeTableCommand({ TableName: table }));
    if (d.Table?.TableStatus === 'ACTIVE') break;
    if (i > 240) throw new Error(`table ${table} did not become ACTIVE`);
    await new Promise((r) => setTimeout(r, 500));
  }

  try {
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
    const desc = ttl.TimeToLiveDescription;
    if (desc?.TimeToLiveStatus === 'ENABLED' && desc.AttributeName === ATTR.expiresAt) {
      print(`TTL already enabled on ${ATTR.expiresAt}`);
    } else {
      await client.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { Enabled: true, AttributeName: ATTR.expiresAt } }));
      print(`enabled TTL on ${ATTR.expiresAt}`);
    }
  } catch (err) {
    if (!unsupported(err)) throw err;
    skipped++;
    print(`TTL: this endpoint does not support UpdateTimeToLive (a local DynamoDB?); skipped`);
  }

  try {
    const backups = await client.send(new DescribeContinuousBackupsCommand({ TableName: table }));
    if (backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus === 'ENABLED') {
      print('point-in-time recovery already enabled');
    } else {
      await client.send(
        new UpdateContinuousBackupsCommand({ TableName: table, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      );
      print('enabled point-in-time recovery');
    }
  } catch (err) {
    if (!unsupported(err)) throw err;
    skipped++;
    print('point-in-time recovery: this endpoint does not support continuous backups (a local DynamoDB?); skipped');
  }
  return skipped;
}
