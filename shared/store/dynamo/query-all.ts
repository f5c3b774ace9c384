import {
  BatchGetCommand,
  QueryCommand,
  type BatchGetCommandOutput,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { backoffMs, sleep } from '../../util/retry.js';
import type { DocumentSender } from '../../aws/lite/dynamo-document.js';

/** Every item a query matches, page after page (DynamoDB answers at most 1 MB a page). */
export async function queryAll(
  doc: DocumentSender,
  input: Omit<QueryCommandInput, 'ExclusiveStartKey'>,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

const BATCH_GET_LIMIT = 100;

/** BatchGets of these keys of one table, in rounds of 100, asking again for what DynamoDB left unprocessed. */
export async function batchGetAll(
  doc: DocumentSender,
  table: string,
  keys: Record<string, unknown>[],
  consistent: boolean,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
    let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined = {
      [table]: { Keys: keys.slice(i, i + BATCH_GET_LIMIT), ConsistentRead: consistent },
    };
    // DynamoDB may answer part of a batch; the rest comes back as UnprocessedKeys to ask again.
    for (let round = 0; request && Object.keys(request).length && round < 10; round++) {
      const res: BatchGetCommandOutput = await doc.send(new BatchGetCommand({ RequestItems: request }));
      out.push(...(res.Responses?.[table] ?? []));
      request = res.UnprocessedKeys as typeof request;
      if (request && Object.keys(request).length) await sleep(backoffMs(round, { baseMs: 20, maxMs: Infinity }));
    }
  }
  return out;
}
