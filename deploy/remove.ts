/**
 * `npm run remove -- --stage NAME [--region REGION] [--delete-data]`: removes the stage's stack. The
 * objects table and the Secrets key are retained (DeletionPolicy: Retain) unless --delete-data is
 * given: then the table's deletion protection is lifted, the table is deleted and the key is
 * scheduled for deletion (KMS waits 7 days, during which it can be cancelled).
 */
import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStackResourceCommand } from '@aws-sdk/client-cloudformation';
import { DeleteTableCommand, DynamoDBClient, UpdateTableCommand } from '@aws-sdk/client-dynamodb';
import { KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { checkStage, serverless, stackName, tableName } from './stage.js';

const { values } = parseArgs({
  options: {
    stage: { type: 'string' },
    region: { type: 'string', default: process.env.AWS_REGION ?? 'us-east-1' },
    'delete-data': { type: 'boolean', default: false },
  },
});
const stage = checkStage(values.stage);
const region = values.region ?? 'us-east-1';

// Find the key before the stack (and with it the record of which key it was) is gone.
const cfn = new CloudFormationClient({ region });
const key = await cfn
  .send(new DescribeStackResourceCommand({ StackName: stackName(stage), LogicalResourceId: 'SecretsKey' }))
  .then((r) => r.StackResourceDetail?.PhysicalResourceId)
  .catch(() => undefined);

await serverless(['remove', '--stage', stage, '--region', region]);

if (!values['delete-data']) {
  console.log(
    `Removed kumo ${stage}. Kept: the table ${tableName(stage)} and the Secrets key${key ? ` ${key}` : ''} (deploy the stage again to use them; --delete-data deletes them).`,
  );
} else {
  const dynamo = new DynamoDBClient({ region });
  await dynamo
    .send(new UpdateTableCommand({ TableName: tableName(stage), DeletionProtectionEnabled: false }))
    .catch(() => undefined);
  await dynamo.send(new DeleteTableCommand({ TableName: tableName(stage) }));
  if (key) await new KMSClient({ region }).send(new ScheduleKeyDeletionCommand({ KeyId: key, PendingWindowInDays: 7 }));
  console.log(
    `Removed kumo ${stage} and deleted its data: table ${tableName(stage)} deleted${key ? `, key ${key} scheduled for deletion in 7 days` : ''}.`,
  );
}
