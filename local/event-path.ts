import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SqsPoller } from './sqs-poller.js';
import { StreamPoller, streamsClient } from './stream-poller.js';

/**
 * The event path offline: the objects table's stream feeds the dispatch handler, the scheduler
 * queue feeds the scheduler handler (several at once, as Lambda would run them), the controllers
 * queue feeds the controller manager, and a timer runs the sweep. The handlers are the real ones from functions/.
 */
export interface EventPathOptions {
  dynamo: DynamoDBClient;
  dynamoEndpoint: string;
  sqs: SQSClient;
  tableName: string;
  schedulerQueueUrl: string;
  controllersQueueUrl: string;
  handlers: {
    controllers: (e: SQSEvent) => Promise<SQSBatchResponse | void>;
    dispatch: (e: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
    scheduler: (e: SQSEvent) => Promise<SQSBatchResponse | void>;
    sweep: () => Promise<unknown>;
  };
  schedulerConcurrency?: number;
  sweepIntervalMs?: number;
  startAt?: 'LATEST' | 'TRIM_HORIZON';
  log?: (msg: string) => void;
}

export interface EventPath {
  stream: StreamPoller;
  scheduler: SqsPoller;
  controllers: SqsPoller;
  stop(): Promise<void>;
}

export async function startEventPath(o: EventPathOptions): Promise<EventPath> {
  const stream = new StreamPoller({
    dynamo: o.dynamo,
    streams: streamsClient(o.dynamoEndpoint, 'us-east-1'),
    tableName: o.tableName,
    handler: o.handlers.dispatch,
    startAt: o.startAt ?? 'TRIM_HORIZON',
    pollIntervalMs: 50,
    log: o.log,
  });
  await stream.start();
  const scheduler = new SqsPoller({
    sqs: o.sqs,
    queueUrl: o.schedulerQueueUrl,
    handler: o.handlers.scheduler,
    concurrency: o.schedulerConcurrency ?? 4,
    log: o.log,
  });
  scheduler.start();
  const controllers = new SqsPoller({
    sqs: o.sqs,
    queueUrl: o.controllersQueueUrl,
    handler: o.handlers.controllers,
    concurrency: 2,
    log: o.log,
  });
  controllers.start();
  const sweep = setInterval(
    () => void o.handlers.sweep().catch((e) => o.log?.(`sweep failed: ${String(e)}`)),
    o.sweepIntervalMs ?? 60_000,
  );
  return {
    stream,
    scheduler,
    controllers,
    async stop() {
      clearInterval(sweep);
      await Promise.all([stream.stop(), scheduler.stop(), controllers.stop()]);
    },
  };
}

/**
 * The real Lambda handlers from functions/, loaded after the environment names the table and the
 * queues (each reads its configuration once, as on AWS).
 */
export async function functionHandlers(): Promise<EventPathOptions['handlers']> {
  const [dispatch, scheduler, sweep, controllers] = await Promise.all([
    import('../functions/dispatch.js'),
    import('../functions/scheduler.js'),
    import('../functions/sweep.js'),
    import('../functions/controllers.js'),
  ]);
  return {
    dispatch: (e) => dispatch.handler(e, {} as never),
    scheduler: (e) => scheduler.handler(e, {} as never),
    controllers: (e) => controllers.handler(e, {} as never),
    sweep: () => sweep.handler({}, {} as never),
  };
}
