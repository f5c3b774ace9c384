import { randomBytes, randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamoClient, liteSqsClient, sqsClient } from '../shared/aws/clients.js';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { freePort } from '../local/ports.js';
import { ensureObjectsTable, ensureQueues } from '../local/setup.js';
import { startSqsEmulator } from '../local/sqs-emulator.js';
import { startEventPath, type EventPathOptions } from '../local/event-path.js';
import { join } from 'node:path';
import { DEFAULT_AUTH } from '../shared/auth/settings.js';
import { apiDeps } from '../shared/apiserver/wiring.js';
import { systemClock } from '../shared/util/clock.js';
import { FileLogStore } from '../shared/logs/file-log-store.js';
import { SqsNodeWakeups } from '../shared/queue/sqs/sqs-node-wakeups.js';
import { DynamoServicesDigestStore } from '../shared/store/dynamo/dynamo-services-digest.js';
import { DynamoMetricsStore } from '../shared/store/dynamo/dynamo-metrics-store.js';
import { DynamoLeaseStore } from '../shared/store/dynamo/dynamo-lease-store.js';
import { DynamoStore } from '../shared/store/dynamo/dynamo-store.js';
import type { DynamoTokenStore } from '../shared/store/dynamo/dynamo-token-store.js';

/** Shared benchmark plumbing: a private DynamoDB Local and SQS emulator, a write counter, percentiles. */

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export async function startBackends() {
  const ddb = await startDynamoDbLocal({ port: await freePort() });
  const sqsEmu = await startSqsEmulator({ port: await freePort() });
  const config = { region: 'us-east-1', dynamoEndpoint: ddb.endpoint, sqsEndpoint: sqsEmu.endpoint };
  const dynamo = dynamoClient(config);
  const sqs = sqsClient(config);
  const tableName = `bench-${randomUUID().slice(0, 8)}`;
  await ensureObjectsTable(dynamo, tableName);
  const queueUrls = await ensureQueues(sqs, tableName);
  return {
    ddb,
    sqsEndpoint: sqsEmu.endpoint,
    dynamo,
    sqs,
    /** The same emulator through the lite client the control plane's queues use. */
    sqsLite: liteSqsClient({ ...config, envCredentials: {} }),
    tableName,
    queueUrls,
    async stop() {
      await sqsEmu.stop();
      await ddb.stop();
    },
  };
}

/** A table with the objects table's keys and nothing else (no stream, no indexes): for raw rates. */
export async function createPlainTable(client: DynamoDBClient, tableName: string): Promise<string> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }),
  );
  return tableName;
}

/** The raw PutItem rate of this DynamoDB Local, sequential and with `parallel` requests in flight. */
export async function rawPutItemRate(client: DynamoDBClient, tableName: string, n: number, parallel: number) {
  const put = (i: number) =>
    client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { pk: { S: 'raw#' }, sk: { S: `item-${i}-${randomUUID()}` }, o: { S: 'x'.repeat(600) } },
      }),
    );
  let t = performance.now();
  for (let i = 0; i < n; i++) await put(i);
  const sequential = n / ((performance.now() - t) / 1000);
  t = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) await put(next++);
    }),
  );
  return { sequential, parallel: n / ((performance.now() - t) / 1000) };
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

export { inParallel } from '../shared/util/in-parallel.js';

type Backends = Awaited<ReturnType<typeof startBackends>>;

/** The offline event path over a benchmark's backends, with the given handlers and options. */
export function benchEventPath(
  b: Backends,
  handlers: EventPathOptions['handlers'],
  extra: Partial<EventPathOptions> = {},
) {
  return startEventPath({
    dynamo: b.dynamo,
    dynamoEndpoint: b.ddb.endpoint,
    sqs: b.sqs,
    tableName: b.tableName,
    schedulerQueueUrl: b.queueUrls.scheduler,
    controllersQueueUrl: b.queueUrls.controllers,
    handlers,
    ...extra,
  });
}

/** The environment the real function handlers read (functions/deps.ts), pointed at a benchmark's backends. */
export function useBackendsForHandlers(b: Backends, extra: Record<string, string> = {}) {
  Object.assign(process.env, {
    KUMO_TABLE: b.tableName,
    KUMO_DYNAMODB_ENDPOINT: b.ddb.endpoint,
    KUMO_SQS_ENDPOINT: b.sqsEndpoint,
    KUMO_SCHEDULER_QUEUE_URL: b.queueUrls.scheduler,
    KUMO_CONTROLLERS_QUEUE_URL: b.queueUrls.controllers,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    KUMO_AUTH_MODE: 'dev-loopback', // loopback benchmarks; bench/agent.ts measures a real node credential
    KUMO_SECRETS_KEY: randomBytes(32).toString('base64'),
    ...extra,
  });
}

/**
 * The API's dependencies on the backends, as the functions wire them on AWS, in the offline
 * development auth mode (a benchmark calls without a token); `tokens` checks agents' node credentials.
 */
export function benchApiDeps(b: Backends, dataDir: string, prefix: string, tokens?: DynamoTokenStore) {
  return apiDeps(
    new DynamoStore(b.dynamo, b.tableName, systemClock),
    systemClock,
    console.error,
    {
      leases: new DynamoLeaseStore(b.dynamo, b.tableName),
      wakeups: new SqsNodeWakeups(b.sqsLite, prefix),
      logs: new FileLogStore(join(dataDir, 'logs')),
      metrics: new DynamoMetricsStore(b.dynamo, b.tableName),
      servicesDigest: new DynamoServicesDigestStore(b.dynamo, b.tableName),
    },
    { ...(tokens ? { tokens } : {}), settings: { ...DEFAULT_AUTH, mode: 'dev-loopback' } },
  );
}
