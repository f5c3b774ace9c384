/**
 * The one place that reads the environment. Everything else receives these values.
 * Offline, local/ sets the endpoints; on AWS they are absent and the SDK's defaults apply.
 */
export interface Config {
  region: string;
  tableName: string;
  /** DynamoDB Local's URL offline; undefined on AWS. */
  dynamoEndpoint?: string;
  /** The SQS emulator's URL offline; undefined on AWS. */
  sqsEndpoint?: string;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const tableName = env.KUMO_TABLE;
  if (!tableName) throw new Error('KUMO_TABLE is not set: it names the DynamoDB objects table');
  return {
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    tableName,
    dynamoEndpoint: env.KUMO_DYNAMODB_ENDPOINT || undefined,
    sqsEndpoint: env.KUMO_SQS_ENDPOINT || undefined,
  };
}
