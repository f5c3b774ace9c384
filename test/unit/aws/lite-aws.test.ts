import { describe, expect, it } from 'vitest';
import { CloudWatchLogStore } from '../../../shared/aws/cloudwatch-log-store.js';
import { AwsError, type AwsJsonClient } from '../../../shared/aws/lite/json-client.js';
import { signV4 } from '../../../shared/aws/lite/sigv4.js';

describe('Signature Version 4', () => {
  // Vectors from AWS's published SigV4 test suite (credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z).
  const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const now = new Date('2015-08-30T12:36:00Z');
  it.each([
    [
      'get-vanilla',
      'GET',
      'https://example.amazonaws.com/',
      {},
      '',
      'host;x-amz-date',
      '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    ],
    [
      'get-vanilla-query-order-key-case',
      'GET',
      'https://example.amazonaws.com/?Param2=value2&Param1=value1',
      {},
      '',
      'host;x-amz-date',
      'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    ],
    [
      'post-x-www-form-urlencoded',
      'POST',
      'https://example.amazonaws.com/',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'Param1=value1',
      'content-type;host;x-amz-date',
      'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
    ],
  ])('%s', (_, method, url, headers, body, signed, signature) => {
    const out = signV4(
      { method, url, headers: { host: 'example.amazonaws.com', ...headers }, body },
      creds,
      'us-east-1',
      'service',
      now,
    );
    expect(out['x-amz-date']).toBe('20150830T123600Z');
    expect(out.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${signed}, Signature=${signature}`,
    );
  });
  it('signs the session token of temporary credentials', () => {
    const out = signV4(
      {
        method: 'POST',
        url: 'https://sqs.us-east-1.amazonaws.com/',
        headers: { host: 'sqs.us-east-1.amazonaws.com' },
        body: '{}',
      },
      { ...creds, sessionToken: 'tok' },
      'us-east-1',
      'sqs',
      now,
    );
    expect(out['x-amz-security-token']).toBe('tok');
    expect(out.authorization).toContain('SignedHeaders=host;x-amz-date;x-amz-security-token,');
  });
});

/**
 * CloudWatch Logs cannot run here (no emulator): this fake stands at that boundary and records the
 * calls, so the test checks what the store asks of CloudWatch, not CloudWatch itself.
 */
class FakeLogs {
  streams = new Map<string, { message: string }[]>();
  calls: string[] = [];
  async call<T>(action: string, input: any): Promise<T> {
    this.calls.push(action);
    if (action === 'CreateLogStream') {
      if (this.streams.has(input.logStreamName)) throw new AwsError(400, 'ResourceAlreadyExistsException', 'exists');
      this.streams.set(input.logStreamName, []);
      return {} as T;
    }
    if (action === 'PutLogEvents') {
      this.streams.get(input.logStreamName)?.push(...input.logEvents);
      return {} as T;
    }
    if (action === 'DescribeLogStreams') {
      const names = [...this.streams.keys()]
        .filter((n) => n.startsWith(input.logStreamNamePrefix))
        .sort()
        .reverse();
      return { logStreams: names.slice(0, input.limit).map((logStreamName) => ({ logStreamName })) } as T;
    }
    if (action === 'GetLogEvents') {
      const events = this.streams.get(input.logStreamName) ?? [];
      // Like CloudWatch: past the end, no events and the same token again.
      if (input.nextToken === 'end') return { events: [], nextForwardToken: 'end' } as T;
      return { events: input.startFromHead ? events : events.slice(-input.limit), nextForwardToken: 'end' } as T;
    }
    throw new Error(action);
  }
}

describe('CloudWatch log store', () => {
  const ref = { namespace: 'default', pod: 'web', podUid: 'u1', container: 'c' };
  it('writes lines in batches to one stream per container instance and reads the current or previous one', async () => {
    const fake = new FakeLogs();
    let t = 1_000;
    const store = new CloudWatchLogStore(fake as unknown as AwsJsonClient, '/kumo/test', () => t);
    const first = store.open(ref, { rotate: true });
    first.write('one\ntw');
    first.write('o\n');
    await first.close();
    t = 2_000;
    const second = store.open(ref, { rotate: true });
    second.write('three\nfour\nfive');
    await second.close();
    expect(await store.read(ref, {})).toBe('three\nfour\nfive\n');
    expect(await store.read(ref, { tailLines: 2 })).toBe('four\nfive\n');
    expect(await store.read(ref, { previous: true })).toBe('one\ntwo\n');
    expect(await store.read({ ...ref, container: 'other' }, {})).toBeUndefined();
    expect(fake.calls.filter((c) => c === 'PutLogEvents')).toHaveLength(2);
  });
});
