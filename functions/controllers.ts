import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { newControllerManager } from './deps.js';

/** Reconciles controller keys (kube-controller-manager's role); failed keys go back to the queue. */
export const handler = middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
  const failed = new Set(await newControllerManager().process(event.Records.map((r) => r.body)));
  return { batchItemFailures: event.Records.filter((r) => failed.has(r.body)).map((r) => ({ itemIdentifier: r.messageId })) };
});
