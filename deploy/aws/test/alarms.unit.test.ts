import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LOG_LINES, METRIC_NAMESPACE, SERVER_ERROR_STATUSES } from '../lib/alarms.ts';
import { REPO, synth } from './support.ts';

describe('alarms', () => {
  const { template, stack } = synth();
  const alarms = stack.alarms.alarms;
  const alarm = (id: string) => {
    const a = alarms[id];
    assert.ok(a, `no alarm ${id}`);
    return template.findResources('AWS::CloudWatch::Alarm')[stack.getLogicalId(a.node.defaultChild as never)]!.Properties;
  };
  const filters = Object.values(template.findResources('AWS::Logs::MetricFilter')).map((f) => f.Properties);
  const filter = (name: string) => {
    const f = filters.find((p) => p.MetricTransformations[0].MetricName === name);
    assert.ok(f, `no metric filter ${name}`);
    return f;
  };

  it('cover relay backlog age, error ratio, DynamoDB throttling, RDS CPU, storage, replica lag, free connections', () => {
    assert.deepEqual(Object.keys(alarms).sort(), [
      'DbCpu', 'DbFreeStorage', 'DynamoThrottling', 'ErrorRatio', 'FreeConnections', 'HealthyTasks', 'RelayBacklogAge', 'ReplicaLag',
    ]);
    const topic = stack.resolve(stack.alarms.topic.topicArn);
    for (const id of Object.keys(alarms)) assert.deepEqual(alarm(id).AlarmActions, [topic], `${id} notifies nobody`);
  });

  it("read the relay backlog from the relay's log line, which the code still writes", () => {
    const f = filter('RelayBacklogAge');
    assert.equal(f.FilterPattern, `{ $.msg = "${LOG_LINES.relayBacklog.msg}" }`);
    assert.equal(f.MetricTransformations[0].MetricValue, '$.outboxBacklog.oldestAgeMs');
    const relay = fs.readFileSync(path.join(REPO, 'src/events/relay.ts'), 'utf8');
    assert.ok(relay.includes(`{ outboxBacklog: backlog }, '${LOG_LINES.relayBacklog.msg}'`), 'src/events/relay.ts no longer writes the backlog line');
    assert.match(relay, /oldestAgeMs: number/);
    const a = alarm('RelayBacklogAge');
    assert.equal(a.MetricName, 'RelayBacklogAge');
    assert.equal(a.Namespace, METRIC_NAMESPACE);
    assert.equal(a.Statistic, 'Maximum');
    assert.equal(a.Threshold, 60_000);
  });

  it('compute the error ratio from the per-call log line, counting server-side statuses only', () => {
    assert.equal(filter('Calls').FilterPattern, '{ $.msg = "call" }');
    const errors = filter('ServerErrors').FilterPattern as string;
    for (const s of SERVER_ERROR_STATUSES) assert.ok(errors.includes(`$.status = "${s}"`), s);
    for (const s of ['INVALID_ARGUMENT', 'NOT_FOUND', 'FAILED_PRECONDITION', 'ABORTED', 'ALREADY_EXISTS', 'CANCELLED']) assert.ok(!errors.includes(`"${s}"`), s);
    const call = fs.readFileSync(path.join(REPO, 'src/grpc/call.ts'), 'utf8');
    assert.match(call, /\{ method, status: status\[code\], code,/, 'src/grpc/call.ts no longer logs the status name');
    assert.match(call, /\n\s*'call',\n/, "src/grpc/call.ts no longer writes the 'call' line");
    const metrics = alarm('ErrorRatio').Metrics as Array<{ Expression?: string; Id: string }>;
    assert.ok(metrics.some((m) => m.Expression?.includes('100 * FILL(errors, 0) / calls')));
  });

  it('watch DynamoDB throttling on the event table', () => {
    const metrics = alarm('DynamoThrottling').Metrics as Array<{ MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: Array<{ Name: string; Value: unknown }> } } }>;
    const stats = metrics.filter((m) => m.MetricStat !== undefined).map((m) => m.MetricStat!.Metric);
    assert.ok(stats.length >= 4);
    const table = stack.resolve(stack.events.table.tableName);
    for (const m of stats) {
      assert.equal(m.Namespace, 'AWS/DynamoDB');
      assert.equal(m.MetricName, 'ThrottledRequests');
      assert.deepEqual(m.Dimensions.find((d) => d.Name === 'TableName')!.Value, table);
    }
  });

  it('watch the primary (CPU, free storage), the replica lag and free proxy connections', () => {
    const primary = stack.resolve(stack.database.primary.instanceIdentifier);
    const cpu = alarm('DbCpu');
    assert.equal(cpu.MetricName, 'CPUUtilization');
    assert.deepEqual(cpu.Dimensions, [{ Name: 'DBInstanceIdentifier', Value: primary }]);
    const storage = alarm('DbFreeStorage');
    assert.equal(storage.MetricName, 'FreeStorageSpace');
    assert.equal(storage.ComparisonOperator, 'LessThanThreshold');
    const lag = alarm('ReplicaLag');
    assert.equal(lag.MetricName, 'ReplicaLag');
    assert.deepEqual(lag.Dimensions, [{ Name: 'DBInstanceIdentifier', Value: stack.resolve(stack.database.replica.instanceIdentifier) }]);
    const free = alarm('FreeConnections');
    assert.equal(free.ComparisonOperator, 'LessThanThreshold');
    assert.match(JSON.stringify(free.Metrics), /MaxDatabaseConnectionsAllowed.*DatabaseConnections|DatabaseConnections.*MaxDatabaseConnectionsAllowed/);
  });
});
