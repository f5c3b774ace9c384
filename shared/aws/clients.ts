import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from '../config.js';
import { credentialProvider } from './lite/credentials.js';
import { AwsJsonClient } from './lite/json-client.js';

/** Emulators accept any credentials; fixed ones keep the SDK from searching the machine for real ones. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export function dynamoClient(config: Pick<Config, 'region' | 'dynamoEndpoint'>): DynamoDBClient {
  return new DynamoDBClient({
    region: config.region,
    ...(config.dynamoEndpoint ? { endpoint: config.dynamoEndpoint, credentials: LOCAL_CREDENTIALS } : {}),
  });
}

export function sqsClient(config: Pick<Config, 'region' | 'sqsEndpoint'>): SQSClient {
  return new SQSClient({
    region: config.region,
    ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint, credentials: LOCAL_CREDENTIALS } : {}),
  });
}

/**
 * SQS over the lite signed JSON client: what the control plane sends on its hot path (work-queue
 * batches, node wake-ups) without the SDK's per-call CPU (see lite/dynamo-document.ts for figures).
 */
export function liteSqsClient(config: Pick<Config, 'region' | 'sqsEndpoint' | 'envCredentials'>): AwsJsonClient {
  const credentials = config.sqsEndpoint
    ? async () => LOCAL_CREDENTIALS
    : credentialProvider({ env: config.envCredentials });
  return new AwsJsonClient('sqs', config.region, credentials, config.sqsEndpoint);
}
