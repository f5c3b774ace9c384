import type { AwsJsonClient } from '../../aws/lite/json-client.js';
import type { QueueName, WorkQueue } from '../work-queue.js';

/** SQS takes at most 10 messages per batch call. */
const SQS_BATCH = 10;

export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly sqs: AwsJsonClient,
    private readonly urls: Record<QueueName, string>,
  ) {}

  async enqueue(queue: QueueName, keys: string[], delaySeconds?: number): Promise<void> {
    // SQS delays a message by at most 15 minutes; a later reconcile comes from the sweep.
    const delay = delaySeconds === undefined ? undefined : Math.min(900, Math.max(0, Math.ceil(delaySeconds)));
    const unique = [...new Set(keys)];
    const batches: string[][] = [];
    for (let i = 0; i < unique.length; i += SQS_BATCH) batches.push(unique.slice(i, i + SQS_BATCH));
    await Promise.all(
      batches.map(async (batch) => {
        const out = await this.sqs.call<{ Failed?: { Message?: string }[] }>('SendMessageBatch', {
          QueueUrl: this.urls[queue],
          Entries: batch.map((key, i) => ({
            Id: String(i),
            MessageBody: key,
            ...(delay !== undefined ? { DelaySeconds: delay } : {}),
          })),
        });
        if (out.Failed?.length)
          throw new Error(
            `SQS refused ${out.Failed.length} of ${batch.length} messages to ${queue}: ${out.Failed[0]?.Message ?? ''}`,
          );
      }),
    );
  }
}
