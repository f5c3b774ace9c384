import type { AwsJsonClient } from './lite/json-client.js';
import type { WakeSource } from '../agent/node-client.js';

/** Long-polls the node's own queue: one ReceiveMessage per 20 s when idle, an answer at once when nudged. */
export class SqsWakeSource implements WakeSource {
  constructor(
    private readonly sqs: AwsJsonClient,
    private readonly queueUrl: string,
  ) {}

  async wait(maxWaitMs: number, signal: AbortSignal): Promise<boolean> {
    const seconds = Math.max(0, Math.min(20, Math.floor(maxWaitMs / 1000)));
    if (signal.aborted) return false;
    let onAbort = () => {};
    const aborted = new Promise<undefined>((resolve) => (onAbort = () => resolve(undefined)));
    signal.addEventListener('abort', onAbort, { once: true });
    const out = await Promise.race([
      this.sqs.call<{ Messages?: { ReceiptHandle?: string }[] }>(
        'ReceiveMessage',
        { QueueUrl: this.queueUrl, WaitTimeSeconds: seconds, MaxNumberOfMessages: 10 },
        (seconds + 10) * 1000,
      ),
      aborted,
    ]).finally(() => signal.removeEventListener('abort', onAbort));
    const messages = out?.Messages ?? [];
    if (!messages.length) return false;
    await this.sqs.call('DeleteMessageBatch', {
      QueueUrl: this.queueUrl,
      Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
    });
    return true;
  }
}
