import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { newScheduler } from './deps.js';

/** Places pods on nodes (kube-scheduler's role); keys that lost too many races go back to the queue. */
export const handler = middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
  const failed = new Set(await newScheduler().process(event.Records.map((r) => r.body)));
  return { batchItemFailures: event.Records.filter((r) => failed.has(r.body)).map((r) => ({ itemIdentifier: r.messageId })) };
});
