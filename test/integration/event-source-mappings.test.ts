import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { dynamoClient, sqsClient } from '../../shared/aws/clients.js';
import { ensureQueues } from '../../local/setup.js';
import { SqsPoller } from '../../local/sqs-poller.js';
import { StreamPoller, streamsClient } from '../../local/stream-poller.js';
import { makeConfigMap } from '../support/fixtures.js';
import { freshStack, type TestStack } from '../support/stack.js';
import { until } from '../support/wait.js';

/** The offline event-source mappings keep Lambda's delivery semantics: partial batch failures, retries, DLQs. */
let stack: TestStack;
beforeAll(async () => {
  stack = await freshStack();
});

describe('stream event-source mapping', () => {
  let poller: StreamPoller | undefined;
  afterAll(() => poller?.stop());

  it('resumes from the record a handler reports as failed, and delivers the rest in order', async () => {
    const names = ['s1', 's2', 's3', 's4', 's5'];
    const seen: string[] = [];
    let failedOnce = false;
    const handler = async (e: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
      for (const r of e.Records) {
        const name = r.dynamodb?.Keys?.sk?.S ?? '';
        if (!names.includes(name)) continue;
        if (name === 's3' && !failedOnce) {
          failedOnce = true;
          return { batchItemFailures: [{ itemIdentifier: r.dynamodb?.SequenceNumber ?? '' }] };
        }
        seen.push(name);
      }
      return { batchItemFailures: [] };
    };
    const endpoint = inject('dynamoEndpoint');
    poller = new StreamPoller({
      dynamo: dynamoClient({ region: 'us-east-1', dynamoEndpoint: endpoint }),
      streams: streamsClient(endpoint, 'us-east-1'),
      tableName: stack.tableName,
      handler,
      startAt: 'TRIM_HORIZON',
    });
    await poller.start();
    for (const n of names) await stack.store.create(makeConfigMap(n));
    await until(() => seen.length >= 5);
    expect(seen).toEqual(names); // s1, s2 once; s3 retried after its failure; nothing skipped or reordered
  });
});

describe('SQS event-source mapping', () => {
  let poller: SqsPoller | undefined;
  afterAll(() => poller?.stop());

  it('deletes what succeeded, retries what failed, and moves a poison message to the dead-letter queue', async () => {
    const sqs = sqsClient({ region: 'us-east-1', sqsEndpoint: inject('sqsEndpoint') });
    const prefix = `esm-${randomUUID().slice(0, 8)}`;
    const urls = await ensureQueues(sqs, prefix);
    const attempts = new Map<string, number>();
    const handler = async (e: SQSEvent): Promise<SQSBatchResponse> => {
      for (const r of e.Records) attempts.set(r.body, (attempts.get(r.body) ?? 0) + 1);
      return {
        batchItemFailures: e.Records.filter((r) => r.body === 'poison').map((r) => ({ itemIdentifier: r.messageId })),
      };
    };
    poller = new SqsPoller({ sqs, queueUrl: urls.scheduler, handler, retryDelaySeconds: 0, waitTimeSeconds: 1 });
    poller.start();
    await sqs.send(new SendMessageCommand({ QueueUrl: urls.scheduler, MessageBody: 'fine' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: urls.scheduler, MessageBody: 'poison' }));
    const dlqUrl = urls.scheduler.replace(/-scheduler$/, '-scheduler-dlq');
    let dead: string[] = [];
    await until(async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      dead = dead.concat((out.Messages ?? []).map((m) => m.Body ?? ''));
      return dead.length > 0;
    });
    expect(dead).toEqual(['poison']);
    expect(attempts.get('fine')).toBe(1);
    expect(attempts.get('poison')).toBe(5); // the redrive policy's maxReceiveCount
    const left = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: urls.scheduler,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(left.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });
});
