import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { databaseUrls } from '../../../docker/database-urls.mjs';
import { HEALTH_CHECK_PATH } from '../lib/service.ts';
import { CERTIFICATE, REPO, onlyResource, synth } from './support.ts';

type Env = Array<{ Name: string; Value: unknown }>;

describe('the service on ECS Fargate', () => {
  const { template, stack } = synth();
  const taskDefs = template.findResources('AWS::ECS::TaskDefinition');
  const serviceTask = Object.values(taskDefs).find((t) => t.Properties.ContainerDefinitions[0].Name === 'inventory')!;
  const container = serviceTask.Properties.ContainerDefinitions[0];
  const env = new Map((container.Environment as Env).map((e) => [e.Name, e.Value]));

  it('runs N tasks and scales on CPU', () => {
    const { resource: service } = onlyResource(template, 'AWS::ECS::Service');
    assert.equal(service.Properties.DesiredCount, 2);
    assert.equal(service.Properties.LaunchType, 'FARGATE');
    assert.deepEqual(service.Properties.DeploymentConfiguration.DeploymentCircuitBreaker, { Enable: true, Rollback: true });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 6 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
        TargetValue: 60,
      }),
    });
    const five = synth({ minTasks: 5, maxTasks: 12 }).template;
    five.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 5 });
    five.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 5, MaxCapacity: 12 });
  });

  it('sits behind a load balancer speaking gRPC over TLS, health-checking grpc.health.v1', () => {
    assert.equal(HEALTH_CHECK_PATH, '/grpc.health.v1.Health/Check');
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      ProtocolVersion: 'GRPC',
      Protocol: 'HTTP',
      Port: 50051,
      TargetType: 'ip',
      HealthCheckPath: '/grpc.health.v1.Health/Check',
      Matcher: { GrpcCode: '0' },
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      Port: 443,
      Certificates: [{ CertificateArn: CERTIFICATE }],
      SslPolicy: Match.stringLikeRegexp('TLS13'),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal' });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
  });

  it('lets only the load balancer reach the tasks, and only the VPC reach an internal load balancer', () => {
    const lbSg = stack.resolve(stack.service.loadBalancer.connections.securityGroups[0]!.securityGroupId);
    const taskSg = stack.resolve(stack.service.service.connections.securityGroups[0]!.securityGroupId);
    const toTasks = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')).filter(
      (r) => JSON.stringify(r.Properties.GroupId) === JSON.stringify(taskSg),
    );
    assert.deepEqual(toTasks.map((r) => [r.Properties.FromPort, r.Properties.SourceSecurityGroupId]), [[50051, lbSg]]);
    const lb = template.findResources('AWS::EC2::SecurityGroup')[(lbSg as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]]!;
    const rules = lb.Properties.SecurityGroupIngress as Array<{ CidrIp: unknown; FromPort: number }>;
    assert.deepEqual(rules.map((r) => [r.FromPort, r.CidrIp]), [[443, stack.resolve(stack.vpc.vpcCidrBlock)]]);
    const open = synth({ internetFacing: true }).template;
    open.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    open.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: Match.arrayWith([Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443 })]),
    });
  });

  it('uses the Dockerfile as an asset, staged at synth and built only at deploy', () => {
    const image = String(container.Image['Fn::Sub'] ?? JSON.stringify(container.Image));
    assert.match(image, /cdk-hnb659fds-container-assets/);
    const asset = findStagedAsset(stack);
    assert.ok(asset, 'no staged Docker asset');
    const files = fs.readdirSync(asset);
    for (const f of ['Dockerfile', 'package.json', 'package-lock.json', 'Makefile', 'src', 'proto', 'docker']) assert.ok(files.includes(f), `${f} missing from the asset`);
    for (const f of ['node_modules', '.tools', '.git', 'deploy', 'dist', 'test']) assert.ok(!files.includes(f), `${f} must not be in the build context`);
    assert.ok(fs.existsSync(path.join(asset, 'docker/healthcheck.mjs')));
  });

  it('checks container health with the gRPC health script that ships in the image', () => {
    assert.deepEqual(container.HealthCheck.Command, ['CMD', 'node', 'docker/healthcheck.mjs']);
    assert.ok(fs.existsSync(path.join(REPO, 'docker/healthcheck.mjs')));
    const dockerfile = fs.readFileSync(path.join(REPO, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^HEALTHCHECK .*docker\/healthcheck\.mjs/m);
    assert.match(dockerfile, /npm ci --omit=dev/);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^FROM node:\$\{NODE_VERSION\}-\w+-slim AS runtime$/m);
    assert.match(dockerfile, /^ARG NODE_VERSION=24\./m);
  });

  it('takes the database credentials from Secrets Manager, never as plain environment', () => {
    const secretRef = JSON.stringify(stack.resolve(stack.database.secret.secretArn));
    const secrets = new Map((container.Secrets as Array<{ Name: string; ValueFrom: unknown }>).map((s) => [s.Name, JSON.stringify(s.ValueFrom)]));
    assert.deepEqual([...secrets.keys()].sort(), ['DATABASE_PASSWORD', 'DATABASE_USER']);
    for (const name of secrets.keys()) assert.ok(secrets.get(name)!.includes(secretRef), `${name} is not from the database secret`);
    assert.match(secrets.get('DATABASE_PASSWORD')!, /:password::/);
    assert.match(secrets.get('DATABASE_USER')!, /:username::/);
    for (const name of env.keys()) assert.ok(!/PASSWORD|SECRET/.test(name), `${name} in plain environment`);
  });

  it('sends the pool through RDS Proxy, LISTEN and replicas directly, and reaches the table', () => {
    assert.deepEqual(env.get('DATABASE_PROXY_HOST'), stack.resolve(stack.database.proxy.endpoint));
    assert.deepEqual(env.get('DATABASE_HOST'), stack.resolve(stack.database.primary.dbInstanceEndpointAddress));
    assert.deepEqual(env.get('DATABASE_REPLICA_HOSTS'), stack.resolve(stack.database.replica.dbInstanceEndpointAddress));
    assert.equal(env.get('DATABASE_URL_PARAMS'), 'sslmode=verify-full');
    assert.equal(env.get('DATABASE_STATEMENT_TIMEOUT_MS'), '0');
    assert.equal(env.get('DATABASE_PREPARED_STATEMENTS'), 'false');
    assert.deepEqual(env.get('EVENTS_TABLE'), stack.resolve(stack.events.table.tableName));
    assert.equal(env.get('NODE_ENV'), 'production');
    assert.equal(env.get('LOG_LEVEL'), 'info');
  });

  it("is an environment the service's own configuration accepts (dist/src/config.js)", async () => {
    const configModule = path.join(REPO, 'dist/src/config.js');
    assert.ok(fs.existsSync(configModule), 'run `make build` first (make deploy-test does)');
    const { loadConfig } = (await import(pathToFileURL(configModule).href)) as {
      loadConfig(env: Record<string, string>): {
        database: { url?: string; listenUrl?: string; replicaUrls: string[]; statementTimeoutMs: number };
        dynamodb: { endpoint?: string; region: string; table: string };
        grpc: { host: string; port: number };
      };
    };
    // Tokens become what CloudFormation would put there.
    const sample: Record<string, string> = {};
    for (const [name, value] of env) {
      sample[name] = typeof value === 'string' ? value : `${name.toLowerCase().replaceAll('_', '-')}.example.internal`;
    }
    sample.AWS_REGION = 'eu-west-1';
    sample.DATABASE_PORT = '5432';
    sample.DYNAMODB_ENDPOINT = 'https://dynamodb.eu-west-1.amazonaws.com';
    sample.EVENTS_TABLE = 'InventoryService-EventsTable-ABC';
    sample.DATABASE_USER = 'inventory';
    sample.DATABASE_PASSWORD = 'p~a.s-s_w0rd';
    const config = loadConfig({ ...sample, ...databaseUrls(sample) });
    assert.equal(new URL(config.database.url!).hostname, 'database-proxy-host.example.internal');
    assert.equal(new URL(config.database.listenUrl!).hostname, 'database-host.example.internal');
    assert.deepEqual(config.database.replicaUrls.map((u) => new URL(u).hostname), ['database-replica-hosts.example.internal']);
    assert.equal(new URL(config.database.url!).searchParams.get('sslmode'), 'verify-full');
    assert.equal(config.database.statementTimeoutMs, 0);
    assert.equal(config.dynamodb.table, 'InventoryService-EventsTable-ABC');
    assert.equal(config.grpc.host, '0.0.0.0');
    assert.equal(config.grpc.port, 50051);
  });

  it('runs operator commands as one-off tasks, directly on the primary, without a statement timeout', () => {
    const ops = Object.values(taskDefs).find((t) => t.Properties.ContainerDefinitions[0].Name === 'admin')!;
    const c = ops.Properties.ContainerDefinitions[0];
    assert.deepEqual(c.Command, ['dist/src/admin/cli.js', 'verify']);
    const opsEnv = new Map((c.Environment as Env).map((e) => [e.Name, e.Value]));
    assert.equal(opsEnv.get('DATABASE_PROXY_HOST'), undefined);
    const urls = databaseUrls({ DATABASE_HOST: 'db', DATABASE_USER: 'u', DATABASE_PASSWORD: 'p', DATABASE_URL_PARAMS: String(opsEnv.get('DATABASE_URL_PARAMS')) });
    assert.equal(new URL(urls.DATABASE_URL!).searchParams.get('options'), '-c statement_timeout=0');
  });
});

/** The directory the stack's Docker image asset was staged into. */
function findStagedAsset(stack: { node: { root: unknown } }): string | undefined {
  const outdir = (stack.node.root as { outdir: string }).outdir;
  const dir = fs.readdirSync(outdir).find((d) => d.startsWith('asset.') && fs.existsSync(path.join(outdir, d, 'Dockerfile')));
  return dir === undefined ? undefined : path.join(outdir, dir);
}
