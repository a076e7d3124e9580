import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { ATTR, eventTableDefinition, KEY } from '../../../src/events/dynamo-schema.ts';
import { onlyResource, synth } from './support.ts';

describe('event table', () => {
  const { template } = synth();
  const table = () => onlyResource(template, 'AWS::DynamoDB::Table').resource;

  it('has the key schema the service reads and writes: streamId (S) HASH, version (N) RANGE', () => {
    const p = table().Properties;
    assert.deepEqual(p.KeySchema, eventTableDefinition('x').KeySchema);
    assert.deepEqual(
      [...p.AttributeDefinitions].sort((a: { AttributeName: string }, b: { AttributeName: string }) => a.AttributeName.localeCompare(b.AttributeName)),
      [...eventTableDefinition('x').AttributeDefinitions].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName)),
    );
    // The literal names too: a rename in the code is a data migration, not a silent stack change.
    assert.deepEqual(KEY, { partition: 'streamId', sort: 'version' });
    assert.deepEqual(p.KeySchema, [
      { AttributeName: 'streamId', KeyType: 'HASH' },
      { AttributeName: 'version', KeyType: 'RANGE' },
    ]);
  });

  it('is on-demand, with TTL on expiresAt, point-in-time recovery and deletion protection', () => {
    const p = table().Properties;
    assert.equal(p.BillingMode, 'PAY_PER_REQUEST');
    assert.equal(p.ProvisionedThroughput, undefined);
    assert.equal(ATTR.expiresAt, 'expiresAt');
    assert.deepEqual(p.TimeToLiveSpecification, { AttributeName: 'expiresAt', Enabled: true });
    assert.deepEqual(p.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
    assert.equal(p.DeletionProtectionEnabled, true);
  });

  it('is kept when the stack is deleted or the resource replaced', () => {
    const t = table();
    assert.equal(t.DeletionPolicy, 'Retain');
    assert.equal(t.UpdateReplacePolicy, 'Retain');
  });

  it('is encrypted with the AWS-owned key by default', () => {
    // No SSESpecification (or SSEEnabled false) is DynamoDB's AWS-owned key.
    const sse = table().Properties.SSESpecification;
    assert.ok(sse === undefined || sse.SSEEnabled === false, JSON.stringify(sse));
    template.resourceCountIs('AWS::KMS::Key', 0);
  });

  it('can use a customer-managed key instead (rotated, retained)', () => {
    const cmk = synth({ eventTableCustomerKey: true }).template;
    const key = onlyResource(cmk, 'AWS::KMS::Key');
    assert.equal(key.resource.Properties.EnableKeyRotation, true);
    assert.equal(key.resource.DeletionPolicy, 'Retain');
    cmk.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [key.id, 'Arn'] } },
    });
  });

  it('stays in place, retained, when the service is pointed at a restored table', () => {
    const restored = synth({ restoredEventTableName: 'inventory-events-restored' }).template;
    restored.resourceCountIs('AWS::DynamoDB::Table', 1);
    restored.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({ Environment: Match.arrayWith([{ Name: 'EVENTS_TABLE', Value: 'inventory-events-restored' }]) }),
      ]),
    });
  });
});
