import type { SQSBatchResponse } from 'aws-lambda';

/**
 * Lambda's partial batch response for a batch of work keys (ReportBatchItemFailures): only the
 * messages whose key failed go back to the queue, with its back-off; the rest are deleted.
 */
export function toBatchItemFailures(
  records: readonly { messageId: string; body: string }[],
  failedKeys: Iterable<string>,
): SQSBatchResponse {
  const failed = new Set(failedKeys);
  return { batchItemFailures: records.filter((r) => failed.has(r.body)).map((r) => ({ itemIdentifier: r.messageId })) };
}
