import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { Database } from './database.ts';
import type { Service } from './service.ts';

export const METRIC_NAMESPACE = 'InventoryService';

/**
 * The service's own log lines that the metrics below are read from (pino JSON, one
 * object a line). test/alarms.unit.test.ts checks that the code still writes them.
 */
export const LOG_LINES = {
  /** src/events/relay.ts: `{ outboxBacklog: { count, oldestAgeMs } }`, every sweep with a backlog, else once a minute. */
  relayBacklog: { msg: 'outbox relay backlog', ageField: 'outboxBacklog.oldestAgeMs' },
  /** src/grpc/call.ts: one line per call with the gRPC status name. */
  call: { msg: 'call', statusField: 'status' },
} as const;

/** Statuses that are the service's fault or its dependencies' (the rest are the caller's). */
export const SERVER_ERROR_STATUSES = ['INTERNAL', 'UNKNOWN', 'UNAVAILABLE', 'DEADLINE_EXCEEDED', 'DATA_LOSS', 'UNIMPLEMENTED'] as const;

export interface AlarmsProps {
  readonly service: Service;
  readonly database: Database;
  readonly table: dynamodb.ITable;
  readonly dbStorageGiB: number;
  readonly minTasks: number;
  readonly email: string | undefined;
}

/** CloudWatch alarms for what matters, all notifying one SNS topic. */
export class Alarms extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: Record<string, cloudwatch.Alarm> = {};

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'Inventory Service alarms' });
    if (props.email !== undefined) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    const logGroup = props.service.logGroup;
    const { primary, replica, proxy } = props.database;

    // Relay backlog age: the oldest event committed in PostgreSQL but not yet in DynamoDB.
    const backlogAge = logMetric(this, logGroup, 'RelayBacklogAge', {
      pattern: logs.FilterPattern.stringValue('$.msg', '=', LOG_LINES.relayBacklog.msg),
      value: `$.${LOG_LINES.relayBacklog.ageField}`,
      unit: cloudwatch.Unit.MILLISECONDS,
    });
    this.add('RelayBacklogAge', backlogAge.with({ statistic: 'Maximum', period: Duration.minutes(1) }), {
      threshold: 60_000,
      evaluationPeriods: 3,
      alarmDescription: 'The outbox relay is more than a minute behind for 3 minutes: DynamoDB failing or throttling, or the relay stuck. Events are safe in the outbox; streams and the feed lag.',
    });

    // Error ratio: calls ending in a server-side status, over all calls, in percent.
    const calls = logMetric(this, logGroup, 'Calls', {
      pattern: logs.FilterPattern.stringValue('$.msg', '=', LOG_LINES.call.msg),
      value: '1',
    });
    const errors = logMetric(this, logGroup, 'ServerErrors', {
      pattern: logs.FilterPattern.all(
        logs.FilterPattern.stringValue('$.msg', '=', LOG_LINES.call.msg),
        logs.FilterPattern.any(...SERVER_ERROR_STATUSES.map((s) => logs.FilterPattern.stringValue(`$.${LOG_LINES.call.statusField}`, '=', s))),
      ),
      value: '1',
    });
    const ratio = new cloudwatch.MathExpression({
      expression: 'IF(calls > 0, 100 * FILL(errors, 0) / calls, 0)',
      usingMetrics: {
        calls: calls.with({ statistic: 'Sum', period: Duration.minutes(5) }),
        errors: errors.with({ statistic: 'Sum', period: Duration.minutes(5) }),
      },
      label: 'server error ratio (%)',
      period: Duration.minutes(5),
    });
    this.add('ErrorRatio', ratio, {
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      alarmDescription: 'More than 1% of calls end in INTERNAL/UNKNOWN/UNAVAILABLE/DEADLINE_EXCEEDED/DATA_LOSS/UNIMPLEMENTED.',
    });

    // DynamoDB throttling on the operations the service and the operator tasks use.
    const throttled = props.table.metricThrottledRequestsForOperations({
      operations: [dynamodb.Operation.PUT_ITEM, dynamodb.Operation.GET_ITEM, dynamodb.Operation.QUERY, dynamodb.Operation.UPDATE_ITEM, dynamodb.Operation.SCAN],
      period: Duration.minutes(1),
    });
    this.add('DynamoThrottling', throttled, {
      threshold: 1,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      alarmDescription: 'The event table throttles requests (an on-demand table throttles above twice its previous peak until it adapts).',
    });

    this.add('DbCpu', primary.metricCPUUtilization({ period: Duration.minutes(5) }), {
      threshold: 80,
      evaluationPeriods: 3,
      alarmDescription: 'PostgreSQL primary CPU above 80% for 15 minutes.',
    });
    const lowStorageBytes = Math.max(2, Math.floor(props.dbStorageGiB * 0.05)) * 1024 ** 3;
    this.add('DbFreeStorage', primary.metricFreeStorageSpace({ period: Duration.minutes(5) }), {
      threshold: lowStorageBytes,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      alarmDescription: 'PostgreSQL primary free storage below 5% of the initial allocation: storage autoscaling has reached its maximum or is in its cool-down.',
    });
    this.add('ReplicaLag', replica.metric('ReplicaLag', { statistic: 'Maximum', period: Duration.minutes(1) }), {
      threshold: 60,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      alarmDescription: 'The read replica is more than 60 s behind: reporting queries (DATABASE_REPLICA_URLS) read stale data.',
    });
    const proxyMetric = (name: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/RDS', metricName: name, dimensionsMap: { ProxyName: proxy.dbProxyName }, statistic: 'Maximum', period: Duration.minutes(1) });
    const freeConnections = new cloudwatch.MathExpression({
      expression: '100 * (allowed - used) / allowed',
      usingMetrics: { allowed: proxyMetric('MaxDatabaseConnectionsAllowed'), used: proxyMetric('DatabaseConnections') },
      label: 'free proxy connections (%)',
      period: Duration.minutes(1),
    });
    this.add('FreeConnections', freeConnections, {
      threshold: 10,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      alarmDescription: 'Fewer than 10% of the connections RDS Proxy may open to the primary are free (pinned sessions, long transactions or too many tasks).',
    });
    this.add('HealthyTasks', props.service.targetGroup.metrics.healthyHostCount({ statistic: 'Minimum', period: Duration.minutes(1) }), {
      threshold: props.minTasks,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      alarmDescription: 'Fewer healthy tasks behind the load balancer than the configured minimum.',
    });
  }

  private add(id: string, metric: cloudwatch.IMetric, options: Omit<cloudwatch.CreateAlarmOptions, 'alarmName'>): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      ...options,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.topic));
    alarm.addOkAction(new actions.SnsAction(this.topic));
    this.alarms[id] = alarm;
  }
}

function logMetric(
  scope: Construct,
  logGroup: logs.ILogGroup,
  name: string,
  spec: { pattern: logs.IFilterPattern; value: string; unit?: cloudwatch.Unit },
): cloudwatch.Metric {
  const filter = new logs.MetricFilter(scope, `${name}Filter`, {
    logGroup,
    filterPattern: spec.pattern,
    metricNamespace: METRIC_NAMESPACE,
    metricName: name,
    metricValue: spec.value,
    ...(spec.unit === undefined ? {} : { unit: spec.unit }),
  });
  return filter.metric();
}
