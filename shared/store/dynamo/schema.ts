import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * The objects table, as created offline. serverless.yml declares the same table for AWS; a test
 * compares the two so they cannot drift.
 *
 * pk = `${kind}#${namespace}` (what is listed together), sk = name. Sparse GSIs answer the hot
 * questions: pods by node, objects by owner uid, unscheduled pods (sharded).
 */
export const GSI = {
  byNode: 'byNode',
  byOwner: 'byOwner',
  unscheduled: 'unscheduled',
} as const;

export function objectsTableDefinition(tableName: string): CreateTableCommandInput {
  const gsi = (name: string, pk: string, sk: string) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: pk, KeyType: 'HASH' as const },
      { AttributeName: sk, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
      { AttributeName: 'byNodePk', AttributeType: 'S' },
      { AttributeName: 'byNodeSk', AttributeType: 'S' },
      { AttributeName: 'byOwnerPk', AttributeType: 'S' },
      { AttributeName: 'byOwnerSk', AttributeType: 'S' },
      { AttributeName: 'unscheduledPk', AttributeType: 'S' },
      { AttributeName: 'unscheduledSk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      gsi(GSI.byNode, 'byNodePk', 'byNodeSk'),
      gsi(GSI.byOwner, 'byOwnerPk', 'byOwnerSk'),
      gsi(GSI.unscheduled, 'unscheduledPk', 'unscheduledSk'),
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  };
}
