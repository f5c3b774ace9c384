import { AwsError, type AwsJsonClient } from '../../aws/lite/json-client.js';
import { nodeQueueName, type NodeWakeups } from '../../nodes/wakeups.js';

/** A wake-up is only a nudge: the agent reads its assignments itself, so old ones are worthless. */
const RETENTION_SECONDS = 60;
const LIST_CACHE_MS = 10_000;

/** One SQS queue per node, named from a prefix; URLs are cached for the life of the container. */
export class SqsNodeWakeups implements NodeWakeups {
  private readonly urls = new Map<string, string | null>();
  /** Every node queue, listed at most once per LIST_CACHE_MS (a new node is woken by its own assignments meanwhile). */
  private everyQueue: { urls: string[]; until: number } | undefined;

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

  async wakeAll(): Promise<void> {
    const now = Date.now();
    if (!this.everyQueue || this.everyQueue.until < now) {
      const urls: string[] = [];
      let token: string | undefined;
      do {
        const out = await this.sqs.call<{ QueueUrls?: string[]; NextToken?: string }>('ListQueues', {
          QueueNamePrefix: `${this.prefix}-node-`,
          MaxResults: 1000,
          ...(token ? { NextToken: token } : {}),
        });
        urls.push(...(out.QueueUrls ?? []));
        token = out.NextToken;
      } while (token);
      this.everyQueue = { urls, until: now + LIST_CACHE_MS };
    }
    await Promise.all(
      this.everyQueue.urls.map((url) =>
        this.sqs.call('SendMessage', { QueueUrl: url, MessageBody: 'wake' }).catch((e: unknown) => {
          // A queue removed with its node since the list was read: nothing to wake.
          if (!(e instanceof AwsError)) throw e;
        }),
      ),
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
