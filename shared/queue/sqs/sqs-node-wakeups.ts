import { AwsError, type AwsJsonClient } from '../../aws/lite/json-client.js';
import { nodeQueueName, type NodeWakeups } from '../../nodes/wakeups.js';

/** A wake-up is only a nudge: the agent reads its assignments itself, so old ones are worthless. */
const RETENTION_SECONDS = 60;

/** One SQS queue per node, named from a prefix; URLs are cached for the life of the container. */
export class SqsNodeWakeups implements NodeWakeups {
  private readonly urls = new Map<string, string | null>();

  constructor(
    private readonly sqs: AwsJsonClient,
    private readonly prefix: string,
  ) {}

  async ensureQueue(nodeName: string): Promise<string> {
    const out = await this.sqs.call<{ QueueUrl?: string }>('CreateQueue', {
      QueueName: nodeQueueName(this.prefix, nodeName),
      Attributes: { MessageRetentionPeriod: String(RETENTION_SECONDS), ReceiveMessageWaitTimeSeconds: '20' },
    });
    const url = out.QueueUrl ?? '';
    this.urls.set(nodeName, url);
    return url;
  }

  async wake(nodeNames: string[]): Promise<void> {
    await Promise.all(
      [...new Set(nodeNames)].map(async (node) => {
        const url = await this.urlOf(node);
        if (url) await this.sqs.call('SendMessage', { QueueUrl: url, MessageBody: 'wake' });
      }),
    );
  }

  async removeQueue(nodeName: string): Promise<void> {
    const url = await this.urlOf(nodeName);
    this.urls.delete(nodeName);
    if (url) await this.sqs.call('DeleteQueue', { QueueUrl: url });
  }

  /** A node that never registered has no queue: nothing to wake. */
  private async urlOf(nodeName: string): Promise<string | undefined> {
    const known = this.urls.get(nodeName);
    if (known !== undefined) return known ?? undefined;
    try {
      const out = await this.sqs.call<{ QueueUrl?: string }>('GetQueueUrl', {
        QueueName: nodeQueueName(this.prefix, nodeName),
      });
      this.urls.set(nodeName, out.QueueUrl ?? null);
      return out.QueueUrl;
    } catch (e) {
      if (
        e instanceof AwsError &&
        (e.code === 'QueueDoesNotExist' || e.code === 'AWS.SimpleQueueService.NonExistentQueue')
      )
        return undefined;
      throw e;
    }
  }
}
