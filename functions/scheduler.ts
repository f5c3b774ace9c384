import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { toBatchItemFailures } from '../shared/queue/sqs/batch-failures.js';
import { newScheduler } from './deps.js';

/** Places pods on nodes (kube-scheduler's role); keys that lost too many races go back to the queue. */
export const handler = middy<SQSEvent, SQSBatchResponse>().handler(async (event) => {
  return toBatchItemFailures(event.Records, await newScheduler().process(event.Records.map((r) => r.body)));
});
