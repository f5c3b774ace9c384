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
  /** Work queue URLs (set by serverless.yml on AWS, by local/ offline). */
  queueUrls: { scheduler: string; controllers: string };
  /** Cluster-wide scoring: spread pods (LeastAllocated, the default) or bin-pack them (MostAllocated). */
  schedulingStrategy: 'LeastAllocated' | 'MostAllocated';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const tableName = env.KUMO_TABLE;
  if (!tableName) throw new Error('KUMO_TABLE is not set: it names the DynamoDB objects table');
  return {
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    tableName,
    dynamoEndpoint: env.KUMO_DYNAMODB_ENDPOINT || undefined,
    sqsEndpoint: env.KUMO_SQS_ENDPOINT || undefined,
    queueUrls: { scheduler: env.KUMO_SCHEDULER_QUEUE_URL ?? '', controllers: env.KUMO_CONTROLLERS_QUEUE_URL ?? '' },
    schedulingStrategy: env.KUMO_SCHEDULING_STRATEGY === 'MostAllocated' ? 'MostAllocated' : 'LeastAllocated',
  };
}
