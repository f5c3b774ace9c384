import { randomBytes, randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamoClient, liteSqsClient, sqsClient } from '../shared/aws/clients.js';
import { LiteDocumentClient } from '../shared/aws/lite/dynamo-document.js';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { freePort } from '../local/ports.js';
import { ensureObjectsTable, ensureQueues } from '../local/setup.js';
import { startSqsEmulator } from '../local/sqs-emulator.js';
import { startEventPath, type EventPathOptions } from '../local/event-path.js';

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

/** Counts item writes that reach DynamoDB (a transaction counts each of its items). */
export function countWrites(client: DynamoDBClient) {
  const counter = { writes: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const op = context.commandName;
      const input = args.input as { TransactItems?: unknown[]; RequestItems?: Record<string, unknown[]> };
      if (op === 'PutItemCommand' || op === 'UpdateItemCommand' || op === 'DeleteItemCommand') counter.writes++;
      if (op === 'TransactWriteItemsCommand') counter.writes += input.TransactItems?.length ?? 0;
      if (op === 'BatchWriteItemCommand') for (const items of Object.values(input.RequestItems ?? {})) counter.writes += items.length;
      return next(args);
    },
    { step: 'initialize', name: 'kumoWriteCounter' },
  );
  return counter;
}

/**
 * Counts every DynamoDB request made in this process (every client, including the handlers' own), by
 * command and by what it touches (index, or the kind in the partition key): where a benchmark's
 * requests go. Patches the client classes, so it is for benchmarks only.
 */
export function censusOfDynamoRequests() {
  const counts = new Map<string, number>();
  const itemWrites = new Map<string, number>();
  const tally = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  type Attrs = Record<string, unknown> | undefined;
  // Document clients pass plain values, low-level clients { S: ... }.
  const kindOf = (item: Attrs) => {
    const pk = item?.pk as string | { S?: string } | undefined;
    return (typeof pk === 'string' ? pk : pk?.S)?.split('#')[0] ?? '?';
  };
  const kinds = (items: Attrs[]) => `[${[...new Set(items.map(kindOf))].sort().join(',')}]`;
  const label = (name: string, i: Record<string, unknown>): string => {
    if (i.IndexName) return `${name} ${String(i.IndexName)}`;
    if (i.Key || i.Item) return `${name} ${kindOf((i.Key ?? i.Item) as Attrs)}`;
    if (i.ExpressionAttributeValues && name === 'Query') return `${name} ${kindOf({ pk: (i.ExpressionAttributeValues as Record<string, unknown>)[':pk'] })}`;
    const transact = i.TransactItems as Record<string, { Key?: Attrs; Item?: Attrs }>[] | undefined;
    if (transact) return `${name} ${kinds(transact.map((t) => Object.values(t)[0]).map((op) => op?.Key ?? op?.Item))}`;
    const batch = i.RequestItems as Record<string, { Keys?: Attrs[] } | { PutRequest?: { Item: Attrs }; DeleteRequest?: { Key: Attrs } }[]> | undefined;
    if (batch) return `${name} ${kinds(Object.values(batch).flatMap((r) => (Array.isArray(r) ? r.map((w) => w.PutRequest?.Item ?? w.DeleteRequest?.Key) : (r.Keys ?? []))))}`;
    return name;
  };
  const SINGLE_WRITES = new Set(['Put', 'Update', 'Delete', 'PutItem', 'UpdateItem', 'DeleteItem']);
  const writtenKinds = (name: string, i: Record<string, unknown>): string[] => {
    if (SINGLE_WRITES.has(name)) return [kindOf((i.Key ?? i.Item) as Attrs)];
    if (name === 'TransactWrite') return (i.TransactItems as Record<string, { Key?: Attrs; Item?: Attrs }>[]).filter((t) => !t.ConditionCheck).map((t) => Object.values(t)[0]).map((op) => kindOf(op?.Key ?? op?.Item));
    if (name === 'BatchWrite') return Object.values(i.RequestItems as Record<string, { PutRequest?: { Item: Attrs }; DeleteRequest?: { Key: Attrs } }[]>).flat().map((w) => kindOf(w.PutRequest?.Item ?? w.DeleteRequest?.Key));
    return [];
  };
  const DYNAMO_COMMANDS = /^(Get|Put|Update|Delete|BatchGet|BatchWrite|TransactWrite|TransactGet)(Item)?$|^(Query|Scan)$/;
  const count = (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const name = command.constructor.name.replace(/Command$/, '');
    if (!DYNAMO_COMMANDS.test(name)) return;
    tally(counts, label(name, command.input));
    for (const kind of writtenKinds(name, command.input)) tally(itemWrites, kind);
  };
  // The stores' lite document client, and the SDK's base class (whatever still goes through an SDK client).
  for (const proto of [LiteDocumentClient.prototype, Object.getPrototypeOf(DynamoDBClient.prototype)] as { send: (...a: unknown[]) => unknown }[]) {
    const send = proto.send;
    proto.send = function (this: unknown, ...args: unknown[]) {
      count(args[0] as Parameters<typeof count>[0]);
      return send.apply(this, args);
    };
  }
  return {
    /** Requests and item writes (by kind) since the last call, largest first. */
    take() {
      const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
      const out = { requests: sorted(counts), itemWrites: sorted(itemWrites) };
      counts.clear();
      itemWrites.clear();
      return out;
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
  const put = (i: number) => client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'raw#' }, sk: { S: `item-${i}-${randomUUID()}` }, o: { S: 'x'.repeat(600) } } }));
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

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

export { inParallel } from '../shared/controllers/in-parallel.js';

type Backends = Awaited<ReturnType<typeof startBackends>>;

/** The offline event path over a benchmark's backends, with the given handlers and options. */
export function benchEventPath(b: Backends, handlers: EventPathOptions['handlers'], extra: Partial<EventPathOptions> = {}) {
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
