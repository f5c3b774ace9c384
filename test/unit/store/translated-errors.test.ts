import { ConditionalCheckFailedException, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { StorageFailedError, StorageUnavailableError, TooManyRequestsError } from '../../../shared/model/errors.js';
import { translatedErrors } from '../../../shared/store/dynamo/translated-errors.js';

/** A document client that fails as DynamoDB (or the network) would: the SDK's own exception classes. */
const failingWith = (error: unknown) => translatedErrors({ send: () => Promise.reject(error) });
const get = new GetCommand({ TableName: 't', Key: { pk: 'a', sk: 'b' } });
const serviceError = (name: string, fault: 'client' | 'server' = 'client') =>
  new DynamoDBServiceException({
    name,
    $fault: fault,
    message: name,
    $metadata: { httpStatusCode: fault === 'server' ? 500 : 400 },
  });

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

  it('an outage or a dropped connection is a 503 naming it, a request refused for good a 500', async () => {
    for (const error of [
      serviceError('InternalServerError', 'server'),
      serviceError('LimitExceededException'),
      new Error('connect ECONNREFUSED 127.0.0.1:8000'),
    ]) {
      const e = await failingWith(error)
        .send(get)
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(StorageUnavailableError);
      expect((e as StorageUnavailableError).code).toBe(503);
    }
    for (const name of ['ResourceNotFoundException', 'ValidationException', 'AccessDeniedException']) {
      const e = await failingWith(serviceError(name))
        .send(get)
        .catch((x: unknown) => x);
      expect(e).toBeInstanceOf(StorageFailedError);
      expect((e as StorageFailedError).toStatus()).toMatchObject({
        code: 500,
        reason: 'InternalError',
        message: `Internal error occurred: the object store refused the request (${name})`,
      });
    }
  });

  it('a failed condition reaches the store method that knows which object it was about; a bug stays a bug', async () => {
    const condition = new ConditionalCheckFailedException({ message: 'no', $metadata: {} });
    await expect(failingWith(condition).send(get)).rejects.toBe(condition);
    const bug = new TypeError('x is undefined');
    await expect(failingWith(bug).send(get)).rejects.toBe(bug);
  });
});
