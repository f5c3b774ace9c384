import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/**
 * Lambda's SQS event source mapping, offline: `concurrency` pollers receive batches, invoke the
 * handler with the real event shape, delete what succeeded and, honouring ReportBatchItemFailures,
 * make the failed messages visible again after a back-off. The queue's redrive policy moves a
 * message that keeps failing to its dead-letter queue.
 */
export interface SqsPollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  handler: (event: SQSEvent) => Promise<SQSBatchResponse | void>;
  batchSize?: number;
  concurrency?: number;
  waitTimeSeconds?: number;
  retryDelaySeconds?: number;
  log?: (msg: string) => void;
}

export class SqsPoller {
  private running = false;
  private loops: Promise<void>[] = [];
  /** Batches being handled right now (tests wait for 0). */
  inFlight = 0;

  constructor(private readonly o: SqsPollerOptions) {}

  start() {
    this.running = true;
    this.loops = Array.from({ length: this.o.concurrency ?? 2 }, () => this.run());
  }

  async stop() {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async run() {
    while (this.running) {
      try {
        const out = await this.o.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.o.queueUrl,
            MaxNumberOfMessages: this.o.batchSize ?? 10,
            WaitTimeSeconds: this.o.waitTimeSeconds ?? 1,
            MessageSystemAttributeNames: ['All'],
          }),
        );
        const messages = out.Messages ?? [];
        if (messages.length === 0) continue;
        this.inFlight++;
        try {
          await this.handle(messages);
        } finally {
          this.inFlight--;
        }
      } catch (e) {
        if (this.running) {
          this.o.log?.(`sqs poller: ${String(e)}`);
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    }
  }

  private async handle(messages: Message[]) {
    const event: SQSEvent = {
      Records: messages.map((m) => ({
        messageId: m.MessageId ?? '',
        receiptHandle: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
        attributes: (m.Attributes ?? {}) as SQSEvent['Records'][number]['attributes'],
        messageAttributes: {},
        md5OfBody: m.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: this.o.queueUrl,
        awsRegion: 'us-east-1',
      })),
    };
    let failed: Set<string>;
    try {
      const result = await this.o.handler(event);
      failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (e) {
      this.o.log?.(`sqs handler failed: ${String(e)}`);
      failed = new Set(event.Records.map((r) => r.messageId));
    }
    const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
    const retry = messages.filter((m) => failed.has(m.MessageId ?? ''));
    if (done.length)
      await this.o.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.o.queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    if (retry.length)
      await this.o.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.o.queueUrl,
          Entries: retry.map((m, i) => ({
            Id: String(i),
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: this.o.retryDelaySeconds ?? 1,
          })),
        }),
      );
  }
}
