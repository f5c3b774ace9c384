import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { changesFromStream } from '../shared/aws/stream.js';
import { dispatchChanges } from '../shared/events/dispatcher.js';
import { logError, nodeWakeups, workQueue } from './deps.js';

/** The one reader of the objects table's stream: maps each change to reconcile keys on the work queues and wakes node agents. */
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>().handler(async (event) => {
  const log = (m: string) => logError(m, undefined);
  const failedAt = await dispatchChanges(changesFromStream(event.Records, log), workQueue(), nodeWakeups(), log);
  return { batchItemFailures: failedAt ? [{ itemIdentifier: failedAt }] : [] };
});
