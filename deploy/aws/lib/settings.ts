/**
 * What a deployment chooses, read from CDK context (`-c key=value` or cdk.json). Every
 * value is checked here, so a bad one fails `cdk synth` with its name, before AWS sees it.
 */
export interface InventorySettings {
  /** ACM certificate for the load balancer's TLS listener (required: gRPC clients speak TLS to it). */
  readonly certificateArn: string;
  /** Load balancer reachable from the internet (default: internal, for callers in the VPC). */
  readonly internetFacing: boolean;
  /** Tasks that always run (N); CPU autoscaling adds tasks up to maxTasks. */
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly cpuTargetPercent: number;
  /** Fargate task size: vCPU units (1024 = 1 vCPU) and MiB. */
  readonly taskCpu: number;
  readonly taskMemoryMiB: number;
  /** RDS instance class without the `db.` prefix, e.g. m7g.large; the replica uses the same. */
  readonly dbInstanceType: string;
  readonly dbStorageGiB: number;
  readonly dbMaxStorageGiB: number;
  /** Automated backups: the window of point-in-time recovery (at least 7 days). */
  readonly backupRetentionDays: number;
  /** The statement timeout the service runs with (DATABASE_STATEMENT_TIMEOUT_MS's default). */
  readonly statementTimeoutMs: number;
  /** EVENT_RETENTION_DAYS: events covered by a snapshot expire this many days later (0 = never). */
  readonly eventRetentionDays: number;
  /** Encrypt the event table with a customer-managed KMS key instead of the AWS-owned one. */
  readonly eventTableCustomerKey: boolean;
  /**
   * Point the service at an event table restored from a backup (docs/deploy-aws.md,
   * disaster recovery) instead of the table this stack created, which is kept.
   */
  readonly restoredEventTableName: string | undefined;
  /** NAT gateways of the VPC (one per AZ keeps an AZ outage from cutting egress). */
  readonly natGateways: number;
  /** E-mail address subscribed to the alarm topic (optional). */
  readonly alarmEmail: string | undefined;
}

export class SettingsError extends Error {}

type Context = (key: string) => unknown;

const integer = (ctx: Context, key: string, fallback: number, min: number, max: number): number => {
  const raw = ctx(key);
  if (raw === undefined) return fallback;
  const n = typeof raw === 'number' ? raw : Number(String(raw));
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SettingsError(`context ${key}=${JSON.stringify(raw)}: must be an integer from ${min} to ${max}`);
  }
  return n;
};

const flag = (ctx: Context, key: string, fallback: boolean): boolean => {
  const raw = ctx(key);
  if (raw === undefined) return fallback;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new SettingsError(`context ${key}=${JSON.stringify(raw)}: must be true or false`);
};

const text = (ctx: Context, key: string, pattern: RegExp, hint: string): string | undefined => {
  const raw = ctx(key);
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !pattern.test(raw)) throw new SettingsError(`context ${key}=${JSON.stringify(raw)}: ${hint}`);
  return raw;
};

/** Reads and validates the settings; `ctx` is `node.tryGetContext`. */
export function readSettings(ctx: Context): InventorySettings {
  const certificateArn = text(ctx, 'certificateArn', /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, 'must be an ACM certificate ARN');
  if (certificateArn === undefined) {
    throw new SettingsError('context certificateArn is required: the ACM certificate of the gRPC (TLS) listener, e.g. -c certificateArn=arn:aws:acm:...');
  }
  const minTasks = integer(ctx, 'minTasks', 2, 1, 100);
  const maxTasks = integer(ctx, 'maxTasks', Math.max(6, minTasks), 1, 200);
  if (maxTasks < minTasks) throw new SettingsError(`context maxTasks=${maxTasks} is less than minTasks=${minTasks}`);
  const dbStorageGiB = integer(ctx, 'dbStorageGiB', 100, 20, 65_536);
  return {
    certificateArn,
    internetFacing: flag(ctx, 'internetFacing', false),
    minTasks,
    maxTasks,
    cpuTargetPercent: integer(ctx, 'cpuTargetPercent', 60, 10, 90),
    taskCpu: integer(ctx, 'taskCpu', 1024, 256, 16_384),
    taskMemoryMiB: integer(ctx, 'taskMemoryMiB', 2048, 512, 122_880),
    dbInstanceType: text(ctx, 'dbInstanceType', /^[a-z0-9]+\.[a-z0-9]+$/, 'must be an instance class like m7g.large') ?? 'm7g.large',
    dbStorageGiB,
    dbMaxStorageGiB: integer(ctx, 'dbMaxStorageGiB', Math.max(1000, dbStorageGiB), dbStorageGiB, 65_536),
    backupRetentionDays: integer(ctx, 'backupRetentionDays', 7, 7, 35),
    statementTimeoutMs: integer(ctx, 'statementTimeoutMs', 30_000, 1000, 3_600_000),
    eventRetentionDays: integer(ctx, 'eventRetentionDays', 0, 0, 36_500),
    eventTableCustomerKey: flag(ctx, 'eventTableCustomerKey', false),
    restoredEventTableName: text(ctx, 'restoredEventTableName', /^[a-zA-Z0-9_.-]{3,255}$/, 'must be a DynamoDB table name'),
    natGateways: integer(ctx, 'natGateways', 2, 1, 3),
    alarmEmail: text(ctx, 'alarmEmail', /^[^@\s]+@[^@\s]+$/, 'must be an e-mail address'),
  };
}
