import {
  CreateTableCommand,
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceNotFoundException,
  UpdateContinuousBackupsCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { ATTR, eventTableDefinition } from './dynamo-schema.js';
import { keySchemaProblem, waitActive } from './table-check.js';

export type ProvisionStep = 'table' | 'billing' | 'ttl' | 'pitr';

/**
 * done: changed now; unchanged: already right; unsupported: the endpoint (a local
 * emulator) does not have the operation; failed: the step did not happen and the table is
 * not what the service expects.
 */
export type StepOutcome = 'done' | 'unchanged' | 'unsupported' | 'failed';

export interface StepResult {
  readonly step: ProvisionStep;
  readonly outcome: StepOutcome;
  readonly detail: string;
}

/**
 * An operation the endpoint does not implement. dynalite answers UnknownOperationException
 * for UpdateTimeToLive and the continuous-backup calls; AWS itself never does, so a real
 * AWS failure (AccessDenied, LimitExceeded, a bad credential) always counts as a failure.
 */
function unsupported(err: unknown): boolean {
  return (err as { name?: string }).name === 'UnknownOperationException';
}

const reason = (err: unknown) => `${(err as { name?: string }).name ?? 'Error'}: ${(err as Error).message}`;

/** Runs one step; an error becomes `unsupported` or `failed`, never an exception. */
async function step(name: ProvisionStep, work: () => Promise<Omit<StepResult, 'step'>>): Promise<StepResult> {
  try {
    return { step: name, ...(await work()) };
  } catch (err) {
    if (unsupported(err)) return { step: name, outcome: 'unsupported', detail: `not supported by this endpoint (${reason(err)}); skipped` };
    return { step: name, outcome: 'failed', detail: reason(err) };
  }
}

async function ensureTable(client: DynamoDBClient, table: string): Promise<{ result: Omit<StepResult, 'step'>; description: TableDescription }> {
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
    await client.send(new CreateTableCommand(eventTableDefinition(table)));
    return { result: { outcome: 'done', detail: `created ${table} with on-demand capacity (PAY_PER_REQUEST)` }, description: await waitActive(client, table) };
  }
  const description = await waitActive(client, table);
  const problem = keySchemaProblem(description);
  if (problem !== undefined) {
    return { result: { outcome: 'failed', detail: `${table} exists but is not an event table: ${problem}; a key schema cannot be changed, use another EVENTS_TABLE` }, description };
  }
  return { result: { outcome: 'unchanged', detail: `${table} exists, ACTIVE, with the event table's key schema` }, description };
}

async function ensureOnDemand(client: DynamoDBClient, table: string, description: TableDescription): Promise<Omit<StepResult, 'step'>> {
  if (description.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST') return { outcome: 'unchanged', detail: 'already on-demand (PAY_PER_REQUEST)' };
  const t = description.ProvisionedThroughput;
  // AWS limits how often a table may switch billing mode; its LimitExceededException says when it may again.
  await client.send(new UpdateTableCommand({ TableName: table, BillingMode: 'PAY_PER_REQUEST' }));
  await waitActive(client, table);
  return {
    outcome: 'done',
    detail: `switched from PROVISIONED (${t?.ReadCapacityUnits ?? '?'} read / ${t?.WriteCapacityUnits ?? '?'} write capacity units) to on-demand (PAY_PER_REQUEST)`,
  };
}

async function ensureTtl(client: DynamoDBClient, table: string): Promise<Omit<StepResult, 'step'>> {
  const desc = (await client.send(new DescribeTimeToLiveCommand({ TableName: table }))).TimeToLiveDescription;
  const status = desc?.TimeToLiveStatus ?? 'DISABLED';
  if ((status === 'ENABLED' || status === 'ENABLING') && desc?.AttributeName === ATTR.expiresAt) {
    return { outcome: 'unchanged', detail: `already ${status.toLowerCase()} on ${ATTR.expiresAt}` };
  }
  if (status === 'ENABLED' || status === 'ENABLING') {
    return {
      outcome: 'failed',
      detail: `TTL is on ${desc?.AttributeName ?? '?'}, the service writes ${ATTR.expiresAt}; disable it first (AWS allows one TTL change per hour)`,
    };
  }
  await client.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { Enabled: true, AttributeName: ATTR.expiresAt } }));
  return { outcome: 'done', detail: `enabled on ${ATTR.expiresAt}` };
}

async function ensurePitr(client: DynamoDBClient, table: string): Promise<Omit<StepResult, 'step'>> {
  const backups = await client.send(new DescribeContinuousBackupsCommand({ TableName: table }));
  if (backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus === 'ENABLED') {
    return { outcome: 'unchanged', detail: 'point-in-time recovery already enabled' };
  }
  await client.send(new UpdateContinuousBackupsCommand({ TableName: table, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }));
  return { outcome: 'done', detail: 'enabled point-in-time recovery' };
}

/**
 * Creates the event table, or reconciles an existing one, to what production expects:
 * the event key schema, on-demand capacity (DynamoDB scales it, no autoscaling policy),
 * TTL on `expiresAt`, point-in-time recovery. Every step is idempotent and printed as it
 * finishes; a step that fails does not stop the next ones, except that nothing is changed
 * on a table whose key schema is wrong. The caller fails when any step `failed`.
 */
export async function provisionTable(client: DynamoDBClient, table: string, print: (line: string) => void): Promise<readonly StepResult[]> {
  const results: StepResult[] = [];
  const report = (r: StepResult) => {
    results.push(r);
    print(`${r.step}: ${r.outcome === 'failed' ? 'FAILED: ' : ''}${r.detail}`);
  };
  let description: TableDescription | undefined;
  report(
    await step('table', async () => {
      const out = await ensureTable(client, table);
      if (out.result.outcome !== 'failed') description = out.description;
      return out.result;
    }),
  );
  if (description === undefined) return results;
  const d = description;
  report(await step('billing', () => ensureOnDemand(client, table, d)));
  report(await step('ttl', () => ensureTtl(client, table)));
  report(await step('pitr', () => ensurePitr(client, table)));
  return results;
}
