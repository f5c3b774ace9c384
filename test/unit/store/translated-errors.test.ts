import { ConditionalCheckFailedException, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { StorageUnavailableError, TooManyRequestsError } from '../../../shared/model/errors.js';
import { translatedErrors } from '../../../shared/store/dynamo/translated-errors.js';

/** A document client that fails as DynamoDB (or the network) would: the SDK's own exception classes. */
const failingWith = (error: unknown) => translatedErrors({ send: () => Promise.reject(error) });
const get = new GetCommand({ TableName: 't', Key: { pk: 'a', sk: 'b' } });
const serviceError = (name: string) =>
  new DynamoDBServiceException({ name, $fault: 'client', message: name, $metadata: { httpStatusCode: 400 } });

describe('the stores translate DynamoDB failures', () => {
  it('throttling after retries is a 429 the caller can back off on', async () => {
    const e = await failingWith(serviceError('ProvisionedThroughputExceededException'))
      .send(get)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TooManyRequestsError);
    expect((e as TooManyRequestsError).toStatus()).toMatchObject({
      code: 429,
      reason: 'TooManyRequests',
      details: { retryAfterSeconds: 1 },
    });
  });

  it('any other DynamoDB failure, or a dropped connection, is a 503 naming it', async () => {
    for (const error of [serviceError('ResourceNotFoundException'), new Error('connect ECONNREFUSED 127.0.0.1:8000')]) {
      const e = await failingWith(error)
        .send(get)
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(StorageUnavailableError);
      expect((e as StorageUnavailableError).code).toBe(503);
    }
  });

  it('a failed condition reaches the store method that knows which object it was about; a bug stays a bug', async () => {
    const condition = new ConditionalCheckFailedException({ message: 'no', $metadata: {} });
    await expect(failingWith(condition).send(get)).rejects.toBe(condition);
    const bug = new TypeError('x is undefined');
    await expect(failingWith(bug).send(get)).rejects.toBe(bug);
  });
});
