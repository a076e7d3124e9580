import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, Duration, Fn } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DATABASE_NAME, type Database } from './database.ts';
import { OPERATOR_DYNAMODB_ACTIONS, SERVICE_DYNAMODB_ACTIONS } from './dynamodb-actions.ts';

/** The repository root: the Docker build context (its .dockerignore keeps it small). */
export const REPOSITORY_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const GRPC_PORT = 50051;
export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

export interface ServiceProps {
  readonly vpc: ec2.IVpc;
  readonly database: Database;
  readonly table: dynamodb.ITable;
  readonly tableKey: kms.IKey | undefined;
  readonly certificateArn: string;
  readonly internetFacing: boolean;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly cpuTargetPercent: number;
  readonly taskCpu: number;
  readonly taskMemoryMiB: number;
  readonly eventRetentionDays: number;
}

/**
 * The service on ECS Fargate behind an Application Load Balancer that terminates TLS and
 * speaks gRPC (HTTP/2) to the tasks, plus a task definition for operator commands
 * (verify, rebuild) run as one-off tasks. One image, built from the repository's
 * Dockerfile at deploy time (synth only stages it).
 */
export class Service extends Construct {
  readonly cluster: ecs.Cluster;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly operatorTask: ecs.FargateTaskDefinition;
  readonly operatorSecurityGroup: ec2.SecurityGroup;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ServiceProps) {
    super(scope, id);
    const { database, table } = props;
    const image = ecs.ContainerImage.fromAsset(REPOSITORY_ROOT, {
      file: 'Dockerfile',
      platform: ecrAssets.Platform.LINUX_AMD64,
    });
    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc: props.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });

    const credentials = {
      DATABASE_USER: ecs.Secret.fromSecretsManager(database.secret, 'username'),
      DATABASE_PASSWORD: ecs.Secret.fromSecretsManager(database.secret, 'password'),
    };
    const databaseParts = {
      DATABASE_HOST: database.primary.dbInstanceEndpointAddress,
      DATABASE_PORT: database.primary.dbInstanceEndpointPort,
      DATABASE_NAME,
    };
    const eventStore = {
      AWS_REGION: Aws.REGION,
      // The regional endpoint, named: the same meaning with or without a production mode
      // that reads an unset DYNAMODB_ENDPOINT as real AWS.
      DYNAMODB_ENDPOINT: Fn.join('', ['https://dynamodb.', Aws.REGION, '.', Aws.URL_SUFFIX]),
      EVENTS_TABLE: table.tableName,
    };

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.taskCpu,
      memoryLimitMiB: props.taskMemoryMiB,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.taskDefinition.addContainer('inventory', {
      image,
      command: ['dist/src/main.js'],
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'service' }),
      portMappings: [{ containerPort: GRPC_PORT, name: 'grpc', appProtocol: ecs.AppProtocol.grpc }],
      environment: {
        NODE_ENV: 'production',
        GRPC_HOST: '0.0.0.0',
        // The stack provisions no certificates or caller policy yet (docs/security.md), so
        // the service must be told explicitly that it serves plaintext, unauthenticated, to
        // the VPC; it warns at every start.
        ALLOW_INSECURE: 'true',
        GRPC_PORT: String(GRPC_PORT),
        // Calls, errors and the relay backlog reach CloudWatch as log lines (alarms.ts): info is the least.
        LOG_LEVEL: 'info',
        ...databaseParts,
        DATABASE_PROXY_HOST: database.proxy.endpoint,
        DATABASE_REPLICA_HOSTS: database.replica.dbInstanceEndpointAddress,
        DATABASE_URL_PARAMS: 'sslmode=verify-full',
        // RDS Proxy refuses a statement_timeout startup parameter: the server's parameter
        // group applies the timeout instead (database.ts).
        DATABASE_STATEMENT_TIMEOUT_MS: '0',
        // A named prepared statement pins the proxied session to one database connection for good.
        DATABASE_PREPARED_STATEMENTS: 'false',
        ...eventStore,
        EVENT_RETENTION_DAYS: String(props.eventRetentionDays),
      },
      secrets: credentials,
      healthCheck: {
        command: ['CMD', 'node', 'docker/healthcheck.mjs'],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(60),
      },
      // The graceful stop (drain, last relay flush) is bounded by SHUTDOWN_TIMEOUT_MS (10 s).
      stopTimeout: Duration.seconds(30),
    });
    grantTable(this.taskDefinition.taskRole, table, props.tableKey, SERVICE_DYNAMODB_ACTIONS);

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      healthCheckGracePeriod: Duration.seconds(60),
    });
    database.allowFrom(this.service, 'Inventory Service tasks', true);
    const scaling = this.service.autoScaleTaskCount({ minCapacity: props.minTasks, maxCapacity: props.maxTasks });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: props.cpuTargetPercent,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.minutes(5),
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: props.internetFacing,
      vpcSubnets: { subnetType: props.internetFacing ? ec2.SubnetType.PUBLIC : ec2.SubnetType.PRIVATE_WITH_EGRESS },
      http2Enabled: true,
      // SubscribeEvents streams may be quiet for minutes between events.
      idleTimeout: Duration.minutes(10),
    });
    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'Targets', {
      vpc: props.vpc,
      targetType: elbv2.TargetType.IP,
      port: GRPC_PORT,
      protocol: elbv2.ApplicationProtocol.HTTP,
      protocolVersion: elbv2.ApplicationProtocolVersion.GRPC,
      healthCheck: {
        path: HEALTH_CHECK_PATH,
        healthyGrpcCodes: '0',
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
      deregistrationDelay: Duration.seconds(30),
    });
    this.service.attachToApplicationTargetGroup(this.targetGroup);
    this.loadBalancer.addListener('Grpc', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      // Internal: callers inside the VPC (add peered ranges to the security group by hand).
      open: props.internetFacing,
      certificates: [elbv2.ListenerCertificate.fromArn(props.certificateArn)],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      defaultTargetGroups: [this.targetGroup],
    });
    if (!props.internetFacing) {
      this.loadBalancer.connections.allowFrom(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(443), 'gRPC clients in the VPC');
    }

    // verify / rebuild: aws ecs run-task with a command override (docs/deploy-aws.md).
    this.operatorTask = new ecs.FargateTaskDefinition(this, 'OperatorTask', {
      cpu: 1024,
      memoryLimitMiB: 2048,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.operatorTask.addContainer('admin', {
      image,
      command: ['dist/src/admin/cli.js', 'verify'],
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'admin' }),
      environment: {
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        ...databaseParts,
        // Directly to the primary (verify and rebuild keep a temporary table in one
        // session) and without the server's statement timeout: an operator is watching.
        DATABASE_URL_PARAMS: 'sslmode=verify-full&options=-c%20statement_timeout%3D0',
        DATABASE_STATEMENT_TIMEOUT_MS: '0',
        ...eventStore,
      },
      secrets: credentials,
    });
    grantTable(this.operatorTask.taskRole, table, props.tableKey, OPERATOR_DYNAMODB_ACTIONS);
    this.operatorSecurityGroup = new ec2.SecurityGroup(this, 'OperatorSg', { vpc: props.vpc, description: 'Inventory operator tasks' });
    database.allowFrom(this.operatorSecurityGroup, 'Inventory operator tasks', true);
  }
}

/** Exactly `actions` on the table (events and snapshots live in it; it has no indexes or streams). */
function grantTable(role: iam.IRole, table: dynamodb.ITable, key: kms.IKey | undefined, actions: readonly string[]): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources: [table.tableArn] }));
  key?.grantEncryptDecrypt(role);
}
