import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { changesFromStream } from '../shared/aws/stream.js';
import { dispatchChanges } from '../shared/events/dispatcher.js';
import { workQueue } from './deps.js';

/** The one reader of the objects table's stream: maps each change to reconcile keys on the work queues. */
export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>().handler(async (event) => {
  const failedAt = await dispatchChanges(changesFromStream(event.Records), workQueue());
  return { batchItemFailures: failedAt ? [{ itemIdentifier: failedAt }] : [] };
});
