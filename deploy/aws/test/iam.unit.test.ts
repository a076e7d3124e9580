import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { OPERATOR_DYNAMODB_ACTIONS, SERVICE_DYNAMODB_ACTIONS, TABLE_MANAGEMENT_ACTIONS } from '../lib/dynamodb-actions.ts';
import { deriveActions } from './code-actions.ts';
import { REPO, synth, type Synthesized } from './support.ts';

const management = new Set<string>(TABLE_MANAGEMENT_ACTIONS);
const dataPlane = (actions: readonly string[]) => actions.filter((a) => !management.has(a)).sort();

/** The statements of the inline policies attached to a role, resolved. */
function statementsOf({ stack, template }: Synthesized, roleArn: unknown): Array<{ Action: string | string[]; Resource: unknown; Effect: string }> {
  const roleRef = stack.resolve(roleArn);
  const roleId = (roleRef as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}
const actionsOf = (s: { Action: string | string[] }) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('task roles: least privilege on the event table', () => {
  const synthesized = synth();
  const { stack } = synthesized;
  const tableArn = stack.resolve(stack.events.table.tableArn);

  it('the service role grants exactly the DynamoDB actions src/main.ts can reach', () => {
    const derived = deriveActions(path.join(REPO, 'src/main.ts'));
    assert.deepEqual(
      dataPlane(derived.actions),
      [...SERVICE_DYNAMODB_ACTIONS].sort(),
      `the service code calls ${JSON.stringify(derived.why, null, 1)}: update SERVICE_DYNAMODB_ACTIONS in deploy/aws/lib/dynamodb-actions.ts`,
    );
    const statements = statementsOf(synthesized, stack.service.taskDefinition.taskRole.roleArn);
    assert.equal(statements.length, 1, JSON.stringify(statements));
    const [only] = statements;
    assert.equal(only!.Effect, 'Allow');
    assert.deepEqual([...actionsOf(only!)].sort(), [...SERVICE_DYNAMODB_ACTIONS].sort());
    assert.deepEqual(only!.Resource, tableArn, 'the table itself only (snapshots are items in it)');
  });

  it('the operator role grants exactly what verify and rebuild (src/admin/cli.ts) can reach', () => {
    const derived = deriveActions(path.join(REPO, 'src/admin/cli.ts'));
    assert.deepEqual(
      dataPlane(derived.actions),
      [...OPERATOR_DYNAMODB_ACTIONS].sort(),
      `the operator commands call ${JSON.stringify(derived.why, null, 1)}: update OPERATOR_DYNAMODB_ACTIONS`,
    );
    const statements = statementsOf(synthesized, stack.service.operatorTask.taskRole.roleArn);
    assert.equal(statements.length, 1, JSON.stringify(statements));
    assert.deepEqual([...actionsOf(statements[0]!)].sort(), [...OPERATOR_DYNAMODB_ACTIONS].sort());
    assert.deepEqual(statements[0]!.Resource, tableArn);
  });

  it('no task may create, delete or reconfigure the table', () => {
    for (const role of [stack.service.taskDefinition.taskRole, stack.service.operatorTask.taskRole]) {
      for (const s of statementsOf(synthesized, role.roleArn)) {
        for (const a of actionsOf(s)) {
          assert.ok(!management.has(a) && !a.endsWith('*'), `${a} granted`);
        }
      }
    }
    // provision's calls are all table management: none of them is granted.
    const provision = deriveActions(path.join(REPO, 'src/events/provision.ts')).actions;
    assert.ok(provision.includes('dynamodb:CreateTable') && provision.includes('dynamodb:UpdateTimeToLive'));
    assert.deepEqual(dataPlane(provision), ['dynamodb:DescribeTable']);
  });

  it('with a customer-managed key, adds only the use of that key', () => {
    const cmk = synth({ eventTableCustomerKey: true });
    const keyArn = cmk.stack.resolve(cmk.stack.events.key!.keyArn);
    const statements = statementsOf(cmk, cmk.stack.service.taskDefinition.taskRole.roleArn);
    assert.equal(statements.length, 2);
    const kms = statements.find((s) => actionsOf(s).every((a) => a.startsWith('kms:')))!;
    assert.deepEqual(kms.Resource, keyArn);
    assert.deepEqual([...actionsOf(kms)].sort(), ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*']);
  });

  it('follows the service to a restored table', () => {
    const restored = synth({ restoredEventTableName: 'inventory-events-restored' });
    const [only] = statementsOf(restored, restored.stack.service.taskDefinition.taskRole.roleArn);
    assert.match(JSON.stringify(only!.Resource), /table\/inventory-events-restored"/);
  });
});

describe('deriving DynamoDB actions from the code', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'actions-'));
  const write = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text);
  write('main.ts', "import { a } from './a.js';\nimport type { T } from './typeonly.js';\nexport * from './b.js';\nawait import('./lazy.js');\n");
  write('a.ts', "import { GetItemCommand, type QueryCommandInput, DynamoDBClient } from '@aws-sdk/client-dynamodb';\nexport const a = 1;\n");
  write('typeonly.ts', "import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';\n");
  write('b.ts', "import { TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';\nconst items = [{ Put: {} }, { ConditionCheck: {} }];\n");
  write('lazy.ts', "import { BatchExecuteStatementCommand } from '@aws-sdk/client-dynamodb';\nconst s = `INSERT INTO \"t\" VALUE {'a': ?}`;\n");

  it('follows value imports, re-exports and dynamic imports, not type-only ones', () => {
    assert.deepEqual(deriveActions(path.join(dir, 'main.ts')).actions, [
      'dynamodb:ConditionCheckItem',
      'dynamodb:GetItem',
      'dynamodb:PartiQLInsert',
      'dynamodb:PutItem',
    ]);
  });

  it('refuses a command it has no mapping for', () => {
    write('x.ts', "import { ExportTableToPointInTimeCommand } from '@aws-sdk/client-dynamodb';\n");
    assert.throws(() => deriveActions(path.join(dir, 'x.ts')), /no IAM mapping for ExportTableToPointInTimeCommand/);
  });
});
