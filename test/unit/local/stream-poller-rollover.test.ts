import { ExpiredIteratorException, type DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { StreamPoller } from '../../../local/stream-poller.js';

/**
 * Shard roll-over and iterator expiry cannot be provoked in DynamoDB Local within a test's time (shards
 * roll over after hours), so this test alone stands a scripted stream in for the Streams API: a parent
 * shard that closes into a child, and an iterator that expires once.
 */
function scriptedStream() {
  const records = (shard: string, from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      eventID: `${shard}-${from + i}`,
      eventName: 'INSERT',
      dynamodb: {
        SequenceNumber: `${shard}-${String(from + i).padStart(3, '0')}`,
        Keys: { sk: { S: `${shard}${from + i}` } },
      },
    }));
  const shards = [{ ShardId: 'A' }, { ShardId: 'B', ParentShardId: 'A' }];
  let expiredOnce = false;
  const calls: string[] = [];
  const client = {
    async send(cmd: { constructor: { name: string }; input: Record<string, string | undefined> }) {
      const name = cmd.constructor.name;
      const input = cmd.input;
      calls.push(name);
      if (name === 'DescribeStreamCommand') return { StreamDescription: { Shards: shards } };
      if (name === 'GetShardIteratorCommand')
        return { ShardIterator: `${input.ShardId}|${input.ShardIteratorType}|${input.SequenceNumber ?? ''}` };
      if (name === 'GetRecordsCommand') {
        const [shard, type, seq] = String(input.ShardIterator).split('|') as [string, string, string];
        const pos =
          type === 'AFTER_SEQUENCE_NUMBER'
            ? Number(seq.split('-')[1]) + 1
            : type.startsWith('pos')
              ? Number(type.slice(3))
              : 0;
        if (shard === 'B' && pos === 2 && !expiredOnce) {
          expiredOnce = true;
          throw new ExpiredIteratorException({ message: 'Iterator expired', $metadata: {} });
        }
        const total = shard === 'A' ? 5 : 6;
        const batch = records(shard, pos, Math.min(2, total - pos));
        const next = pos + batch.length;
        // A closes after its 5 records (no next iterator); B stays open.
        return {
          Records: batch,
          NextShardIterator: shard === 'A' && next >= total ? undefined : `${shard}|pos${next}|`,
        };
      }
      throw new Error(`unexpected ${name}`);
    },
  };
  const dynamo = { send: async () => ({ Table: { LatestStreamArn: 'arn:stream' } }) };
  return { client: client as unknown as DynamoDBStreamsClient, dynamo: dynamo as unknown as DynamoDBClient, calls };
}

describe('stream poller', () => {
  it('reads a closed parent shard to its end, then its child, and survives an expired iterator', async () => {
    const { client, dynamo } = scriptedStream();
    const seen: string[] = [];
    const poller = new StreamPoller({
      dynamo,
      streams: client,
      tableName: 't',
      pollIntervalMs: 5,
      handler: async (e: DynamoDBStreamEvent) => {
        seen.push(...e.Records.map((r) => r.dynamodb?.Keys?.sk?.S ?? ''));
        return { batchItemFailures: [] };
      },
    });
    await poller.start();
    const deadline = Date.now() + 5000;
    while (seen.length < 11 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await poller.stop();
    expect(seen).toEqual(['A0', 'A1', 'A2', 'A3', 'A4', 'B0', 'B1', 'B2', 'B3', 'B4', 'B5']);
  });
});
