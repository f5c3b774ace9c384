import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { dynamoClient, sqsClient } from '../../shared/aws/clients.js';
import { ensureQueues } from '../../local/setup.js';
import { functionHandlers, startEventPath, type EventPath } from '../../local/event-path.js';
import { freshStack, type TestStack } from './stack.js';
import { addNode } from './cluster.js';
import { serveLambda } from '../../local/lambda-http.js';

export interface EventPathStack extends TestStack {
  path: EventPath;
  /** Resolves once the stream is read to its end and no scheduler batch is running, twice in a row. */
  quiet(timeoutMs?: number): Promise<void>;
}

/**
 * A fresh table and fresh queues, with the real dispatch, scheduler and sweep handlers behind the
 * offline event-source mappings. The handlers read their configuration from the environment, as on
 * AWS; each test file runs in its own worker, so setting it here is safe.
 */
export async function startEventPathStack(
  opts: { schedulerConcurrency?: number; sweepIntervalMs?: number } = {},
): Promise<EventPathStack> {
  const stack = await freshStack();
  const dynamoEndpoint = inject('dynamoEndpoint');
  const sqsEndpoint = inject('sqsEndpoint');
  const sqs = sqsClient({ region: 'us-east-1', sqsEndpoint });
  const urls = await ensureQueues(sqs, `t-${randomUUID().slice(0, 8)}`);
  Object.assign(process.env, {
    KUMO_TABLE: stack.tableName,
    KUMO_DYNAMODB_ENDPOINT: dynamoEndpoint,
    KUMO_SQS_ENDPOINT: sqsEndpoint,
    KUMO_SCHEDULER_QUEUE_URL: urls.scheduler,
    KUMO_CONTROLLERS_QUEUE_URL: urls.controllers,
  });
  const handlers = await functionHandlers();
  const path = await startEventPath({
    dynamo: dynamoClient({ region: 'us-east-1', dynamoEndpoint }),
    dynamoEndpoint,
    sqs,
    tableName: stack.tableName,
    schedulerQueueUrl: urls.scheduler,
    controllersQueueUrl: urls.controllers,
    handlers,
    schedulerConcurrency: opts.schedulerConcurrency ?? 4,
    sweepIntervalMs: opts.sweepIntervalMs ?? 3_600_000,
    log: (m) => console.error(m),
  });
  const quiet = async (timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    let calm = 0;
    while (calm < 3) {
      if (Date.now() > deadline) throw new Error('the event path did not settle');
      await new Promise((r) => setTimeout(r, 300));
      const { ApproximateNumberOfMessages = '0', ApproximateNumberOfMessagesNotVisible = '0' } =
        (
          await sqs.send(
            new (await import('@aws-sdk/client-sqs')).GetQueueAttributesCommand({
              QueueUrl: urls.scheduler,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
            }),
          )
        ).Attributes ?? {};
      calm =
        path.stream.idle &&
        path.scheduler.inFlight === 0 &&
        ApproximateNumberOfMessages === '0' &&
        ApproximateNumberOfMessagesNotVisible === '0'
          ? calm + 1
          : 0;
    }
  };
  return { ...stack, path, quiet };
}

/**
 * The event path as above, plus the API handler (functions/api.ts) over HTTP on the same table, with
 * one Ready node: for tests that drive controllers through kubectl.
 */
export async function startEventPathApi(
  node: string,
): Promise<EventPathStack & { url: string; close(): Promise<void> }> {
  // Tokenless requests from loopback act as cluster-admin, as under npm start (before any handler reads it).
  process.env.KUMO_AUTH_MODE = 'dev-loopback';
  const stack = await startEventPathStack();
  await addNode(stack.api.service, node);
  const { handler } = await import('../../functions/api.js');
  const server = await serveLambda(handler);
  return {
    ...stack,
    url: server.url,
    async close() {
      await server.close();
      await stack.path.stop();
    },
  };
}
