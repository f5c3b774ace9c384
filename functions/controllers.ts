import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { toBatchItemFailures } from '../shared/queue/sqs/batch-failures.js';
import { newControllerManager } from './deps.js';

/** Reconciles controller keys (kube-controller-manager's role); failed keys go back to the queue. */
export const handler = middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
  return toBatchItemFailures(event.Records, await newControllerManager().process(event.Records.map((r) => r.body)));
});
