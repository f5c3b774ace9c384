import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  TrimmedDataAccessException,
  type _Record,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/**
 * Lambda's DynamoDB Streams event source mapping, offline: polls every shard of the table's stream
 * in order, hands batches to the handler in the real event shape, resumes from a reported
 * `batchItemFailures` sequence number, gives a failing record up after `maxRetries` (AWS would send
 * it to the on-failure destination), renews expired iterators and follows shards as they roll over.
 */
export interface StreamPollerOptions {
  dynamo: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  tableName: string;
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  batchSize?: number;
  pollIntervalMs?: number;
  maxRetries?: number;
  /** LATEST skips what happened before the poller started (a restarted `npm start`); TRIM_HORIZON replays it. */
  startAt?: 'LATEST' | 'TRIM_HORIZON';
  log?: (msg: string) => void;
}

interface ShardState {
  shard: Shard;
  iterator?: string;
  lastSequence?: string;
  done: boolean;
  retries: number;
}

export class StreamPoller {
  private readonly shards = new Map<string, ShardState>();
  private running = false;
  private loop: Promise<void> | undefined;
  private streamArn = '';
  private firstDiscovery = true;

  constructor(private readonly o: StreamPollerOptions) {}

  async start(): Promise<void> {
    const t = await this.o.dynamo.send(new DescribeTableCommand({ TableName: this.o.tableName }));
    this.streamArn = t.Table?.LatestStreamArn ?? '';
    if (!this.streamArn) throw new Error(`table ${this.o.tableName} has no stream`);
    await this.discoverShards();
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** True when every shard has been read to its current end (tests wait for this). */
  idle = true;

  private async run() {
    let rounds = 0;
    while (this.running) {
      let got = 0;
      try {
        if (++rounds % 20 === 0) await this.discoverShards();
        for (const s of this.shards.values()) {
          if (s.done || !this.parentDone(s)) continue;
          got += await this.pollShard(s);
        }
      } catch (e) {
        this.o.log?.(`stream poller: ${String(e)}`);
      }
      this.idle = got === 0;
      if (got === 0) await new Promise((r) => setTimeout(r, this.o.pollIntervalMs ?? 100));
    }
  }

  private parentDone(s: ShardState) {
    const parent = s.shard.ParentShardId ? this.shards.get(s.shard.ParentShardId) : undefined;
    return !parent || parent.done;
  }

  private async discoverShards() {
    let start: string | undefined;
    do {
      const out = await this.o.streams.send(
        new DescribeStreamCommand({ StreamArn: this.streamArn, ExclusiveStartShardId: start }),
      );
      for (const shard of out.StreamDescription?.Shards ?? []) {
        if (!shard.ShardId || this.shards.has(shard.ShardId)) continue;
        this.shards.set(shard.ShardId, {
          shard,
          done: false,
          retries: 0,
          ...(this.firstDiscovery && this.o.startAt === 'LATEST' ? { lastSequence: 'LATEST' } : {}),
        });
      }
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start);
    this.firstDiscovery = false;
  }

  private async iterator(
    s: ShardState,
    type: 'TRIM_HORIZON' | 'LATEST' | 'AT_SEQUENCE_NUMBER' | 'AFTER_SEQUENCE_NUMBER',
    seq?: string,
  ) {
    const out = await this.o.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.streamArn,
        ShardId: s.shard.ShardId,
        ShardIteratorType: type,
        SequenceNumber: seq,
      }),
    );
    return out.ShardIterator;
  }

  private async pollShard(s: ShardState): Promise<number> {
    if (!s.iterator) {
      s.iterator =
        s.lastSequence === 'LATEST'
          ? await this.iterator(s, 'LATEST')
          : s.lastSequence
            ? await this.iterator(s, 'AFTER_SEQUENCE_NUMBER', s.lastSequence)
            : await this.iterator(s, 'TRIM_HORIZON');
      if (s.lastSequence === 'LATEST') s.lastSequence = undefined;
    }
    let out;
    try {
      out = await this.o.streams.send(
        new GetRecordsCommand({ ShardIterator: s.iterator, Limit: this.o.batchSize ?? 100 }),
      );
    } catch (e) {
      if (e instanceof ExpiredIteratorException || e instanceof TrimmedDataAccessException) {
        s.iterator = undefined; // renewed from the last sequence number on the next round
        return 0;
      }
      throw e;
    }
    const records = out.Records ?? [];
    if (records.length > 0) {
      const failedSeq = await this.deliver(records);
      if (failedSeq) {
        s.retries++;
        if (s.retries > (this.o.maxRetries ?? 5)) {
          this.o.log?.(`stream poller: giving up on record ${failedSeq} after ${s.retries - 1} retries`);
          s.retries = 0;
          s.lastSequence = failedSeq;
        } else {
          const before = records[records.findIndex((r) => r.dynamodb?.SequenceNumber === failedSeq) - 1];
          s.lastSequence = before?.dynamodb?.SequenceNumber ?? s.lastSequence;
          await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** s.retries, 2000)));
        }
        s.iterator = s.lastSequence
          ? await this.iterator(s, 'AFTER_SEQUENCE_NUMBER', s.lastSequence)
          : await this.iterator(s, 'TRIM_HORIZON');
        return records.length;
      }
      s.retries = 0;
      s.lastSequence = records.at(-1)?.dynamodb?.SequenceNumber ?? s.lastSequence;
    }
    s.iterator = out.NextShardIterator;
    if (!s.iterator) {
      s.done = true; // the shard closed; its children carry on
      await this.discoverShards();
    }
    return records.length;
  }

  /** Invokes the handler; returns the sequence number to resume from, or undefined when the batch is done. */
  private async deliver(records: _Record[]): Promise<string | undefined> {
    const event: DynamoDBStreamEvent = {
      Records: records.map(
        (r) =>
          ({
            eventID: r.eventID,
            eventName: r.eventName,
            eventVersion: r.eventVersion,
            eventSource: 'aws:dynamodb',
            awsRegion: r.awsRegion ?? 'us-east-1',
            eventSourceARN: this.streamArn,
            dynamodb: {
              ...r.dynamodb,
              ApproximateCreationDateTime: r.dynamodb?.ApproximateCreationDateTime
                ? Math.floor(r.dynamodb.ApproximateCreationDateTime.getTime() / 1000)
                : undefined,
            },
          }) as DynamoDBRecord,
      ),
    };
    try {
      const result = await this.o.handler(event);
      return result?.batchItemFailures?.[0]?.itemIdentifier;
    } catch (e) {
      this.o.log?.(`stream handler failed: ${String(e)}`);
      return records[0]?.dynamodb?.SequenceNumber;
    }
  }
}

export const streamsClient = (endpoint: string, region: string) =>
  new DynamoDBStreamsClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
