import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { WakeSource } from '../../agent/node-client.js';

/** Long-polls the node's own queue: one ReceiveMessage per 20 s when idle, an answer at once when nudged. */
export class SqsWakeSource implements WakeSource {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async wait(maxWaitMs: number, signal: AbortSignal): Promise<boolean> {
    const seconds = Math.max(0, Math.min(20, Math.floor(maxWaitMs / 1000)));
    try {
      const out = await this.sqs.send(new ReceiveMessageCommand({ QueueUrl: this.queueUrl, WaitTimeSeconds: seconds, MaxNumberOfMessages: 10 }), { abortSignal: signal });
      const messages = out.Messages ?? [];
      if (!messages.length) return false;
      await this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
      return true;
    } catch (e) {
      if (signal.aborted) return false;
      throw e;
    }
  }
}
