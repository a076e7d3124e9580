import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import { Alarms } from './alarms.ts';
import { Database } from './database.ts';
import { EventTable } from './event-table.ts';
import { Service } from './service.ts';
import type { InventorySettings } from './settings.ts';

export interface InventoryStackProps extends StackProps {
  readonly settings: InventorySettings;
}

/** Everything the Inventory Service needs in one AWS account and region (docs/deploy-aws.md). */
export class InventoryStack extends Stack {
  readonly vpc: ec2.Vpc;
  readonly events: EventTable;
  readonly database: Database;
  readonly service: Service;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: InventoryStackProps) {
    super(scope, id, props);
    const s = props.settings;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: s.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      // DynamoDB traffic stays off the NAT gateways (free, and no per-GB NAT charge).
      gatewayEndpoints: { DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB } },
    });
    this.events = new EventTable(this, 'Events', { customerManagedKey: s.eventTableCustomerKey, restoredTableName: s.restoredEventTableName });
    this.database = new Database(this, 'Database', {
      vpc: this.vpc,
      instanceType: s.dbInstanceType,
      storageGiB: s.dbStorageGiB,
      maxStorageGiB: s.dbMaxStorageGiB,
      backupRetentionDays: s.backupRetentionDays,
      statementTimeoutMs: s.statementTimeoutMs,
    });
    this.service = new Service(this, 'Inventory', {
      vpc: this.vpc,
      database: this.database,
      table: this.events.table,
      tableKey: this.events.key,
      certificateArn: s.certificateArn,
      internetFacing: s.internetFacing,
      minTasks: s.minTasks,
      maxTasks: s.maxTasks,
      cpuTargetPercent: s.cpuTargetPercent,
      taskCpu: s.taskCpu,
      taskMemoryMiB: s.taskMemoryMiB,
      eventRetentionDays: s.eventRetentionDays,
    });
    this.alarms = new Alarms(this, 'Alarms', {
      service: this.service,
      database: this.database,
      table: this.events.table,
      dbStorageGiB: s.dbStorageGiB,
      minTasks: s.minTasks,
      email: s.alarmEmail,
    });

    // What the runbook's commands need (docs/deploy-aws.md).
    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('GrpcEndpoint', this.service.loadBalancer.loadBalancerDnsName, 'gRPC over TLS on port 443');
    out('EventTableName', this.events.table.tableName, 'EVENTS_TABLE of the service');
    out('OwnedEventTableName', this.events.owned.tableName, 'The event table this stack created (retained)');
    out('DatabaseInstanceId', this.database.primary.instanceIdentifier, 'RDS primary');
    out('DatabaseEndpoint', this.database.primary.dbInstanceEndpointAddress, 'Primary, direct (LISTEN, operator tasks)');
    out('ReplicaInstanceId', this.database.replica.instanceIdentifier, 'RDS read replica');
    out('ReplicaEndpoint', this.database.replica.dbInstanceEndpointAddress, 'DATABASE_REPLICA_URLS');
    out('ProxyName', this.database.proxy.dbProxyName, 'RDS Proxy');
    out('ProxyEndpoint', this.database.proxy.endpoint, 'DATABASE_URL (the pool)');
    out('DatabaseSecretArn', this.database.secret.secretArn, 'Credentials (username, password)');
    out('DatabaseParameterGroup', this.database.parameters.bindToInstance({}).parameterGroupName, 'Parameter group for restored instances');
    out('DatabaseSecurityGroupId', this.database.primary.connections.securityGroups[0]!.securityGroupId, 'Security group for restored instances');
    out('ClusterName', this.service.cluster.clusterName, 'ECS cluster');
    out('ServiceName', this.service.service.serviceName, 'ECS service');
    out('OperatorTaskDefinition', this.service.operatorTask.taskDefinitionArn, 'verify / rebuild');
    out('OperatorSecurityGroupId', this.service.operatorSecurityGroup.securityGroupId, 'Security group for operator tasks');
    out('AppSubnetIds', this.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds.join(','), 'Subnets for operator tasks');
    out('AlarmTopicArn', this.alarms.topic.topicArn, 'SNS topic of the alarms');
  }
}
