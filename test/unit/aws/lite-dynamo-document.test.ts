import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConditionalCheckFailedException, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '../../../shared/aws/clients.js';
import { LiteDocumentClient } from '../../../shared/aws/lite/dynamo-document.js';

/**
 * DynamoDB throttling cannot be produced by DynamoDB Local: this small server stands in for the
 * service at that boundary and answers from a script. (Everything else the lite client does is
 * exercised against DynamoDB Local by the store's integration tests.)
 */
let server: Server;
let script: { status: number; body: unknown }[] = [];
const seen: { target: string; body: unknown }[] = [];
beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ target: String(req.headers['x-amz-target']), body: JSON.parse(body) });
      const next = script.shift() ?? { status: 500, body: { __type: 'InternalServerError' } };
      res.writeHead(next.status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(next.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const client = () =>
  new LiteDocumentClient(
    dynamoClient({ region: 'us-east-1', dynamoEndpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
  );
const get = () =>
  client().send(new GetCommand({ TableName: 't', Key: { pk: 'Pod#default', sk: 'a' }, ConsistentRead: true }));

describe('LiteDocumentClient', () => {
  it('marshals the request, retries throttling, and unmarshals the answer', async () => {
    seen.length = 0;
    script = [
      {
        status: 400,
        body: {
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'slow down',
        },
      },
      { status: 200, body: { Item: { pk: { S: 'Pod#default' }, sk: { S: 'a' }, rv: { N: '7' } } } },
    ];
    expect((await get()).Item).toEqual({ pk: 'Pod#default', sk: 'a', rv: 7 });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toEqual({
      target: 'DynamoDB_20120810.GetItem',
      body: { TableName: 't', Key: { pk: { S: 'Pod#default' }, sk: { S: 'a' } }, ConsistentRead: true },
    });
  });

  it('raises DynamoDB errors as the SDK exception classes, without retrying the final ones', async () => {
    seen.length = 0;
    script = [
      {
        status: 400,
        body: {
          __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
          message: 'The conditional request failed',
          Item: { rv: { N: '3' } },
        },
      },
    ];
    await expect(get()).rejects.toSatisfy((e) => e instanceof ConditionalCheckFailedException && e.Item?.rv?.N === '3');
    script = [{ status: 400, body: { __type: 'com.amazon.coral.validate#ValidationException', message: 'bad key' } }];
    await expect(get()).rejects.toSatisfy(
      (e) => e instanceof DynamoDBServiceException && e.name === 'ValidationException' && e.message === 'bad key',
    );
    expect(seen).toHaveLength(2);
  });

  it('gives up after four attempts at a failing service', async () => {
    seen.length = 0;
    script = [];
    await expect(get()).rejects.toSatisfy(
      (e) => e instanceof DynamoDBServiceException && e.name === 'InternalServerError',
    );
    expect(seen).toHaveLength(4);
  });
});
