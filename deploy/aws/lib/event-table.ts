import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
// The service's own table layout: the stack cannot drift from what the code reads and writes.
import { ATTR, eventTableDefinition } from '../../../src/events/dynamo-schema.ts';

export interface EventTableProps {
  readonly customerManagedKey: boolean;
  /** Use this (restored) table for the service instead of the one created here. */
  readonly restoredTableName: string | undefined;
}

const attributeType = (name: string): dynamodb.AttributeType => {
  const def = eventTableDefinition('x').AttributeDefinitions.find((a) => a.AttributeName === name);
  if (def === undefined) throw new Error(`the event table defines no attribute ${name}`);
  return def.AttributeType === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER;
};

const keyName = (type: 'HASH' | 'RANGE'): string => {
  const key = eventTableDefinition('x').KeySchema.find((k) => k.KeyType === type);
  if (key === undefined) throw new Error(`the event table has no ${type} key`);
  return key.AttributeName;
};

/**
 * The event store: one DynamoDB table holding events and snapshots (snapshots are items
 * under `snapshot#<streamId>` in the same table). On-demand capacity, TTL on the attribute
 * the service writes, point-in-time recovery, deletion protection, and kept when the
 * stack is deleted.
 */
export class EventTable extends Construct {
  /** The table this stack owns (retained on stack deletion). */
  readonly owned: dynamodb.Table;
  /** The table the service uses: `owned`, or a restored one named in the settings. */
  readonly table: dynamodb.ITable;
  readonly key: kms.IKey | undefined;

  constructor(scope: Construct, id: string, props: EventTableProps) {
    super(scope, id);
    const definition = eventTableDefinition('x');
    if (definition.BillingMode !== 'PAY_PER_REQUEST') throw new Error('the service expects an on-demand event table');
    this.key = props.customerManagedKey
      ? new kms.Key(this, 'Key', {
          description: 'Inventory Service event table',
          enableKeyRotation: true,
          removalPolicy: RemovalPolicy.RETAIN,
        })
      : undefined;
    const partition = keyName('HASH');
    const sort = keyName('RANGE');
    this.owned = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: partition, type: attributeType(partition) },
      sortKey: { name: sort, type: attributeType(sort) },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: ATTR.expiresAt,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      ...(this.key === undefined
        ? { encryption: dynamodb.TableEncryption.DEFAULT }
        : { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: this.key }),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table =
      props.restoredTableName === undefined
        ? this.owned
        : dynamodb.Table.fromTableAttributes(this, 'Restored', {
            tableName: props.restoredTableName,
            ...(this.key === undefined ? {} : { encryptionKey: this.key }),
          });
  }
}
