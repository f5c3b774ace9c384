import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { StorageFailedError, StorageUnavailableError, TooManyRequestsError } from '../../model/errors.js';
import type { DocumentSender } from '../../aws/lite/dynamo-document.js';

/** DynamoDB's throttling answers, after the client's own retries: the caller should slow down. */
const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded']);
/** DynamoDB's answers that a later try may not get (AWS's retryable errors besides throttling). */
const TRANSIENT = new Set([
  'InternalServerError',
  'ServiceUnavailable',
  'LimitExceededException',
  'TransactionInProgressException',
  'RequestTimeout',
]);
const CONNECTION_FAILURE = /ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT|EAI_AGAIN|socket hang up|no answer/;

/**
 * The stores' document client, with every DynamoDB failure translated into the model's errors, so no
 * AWS SDK error leaves the store: throttling becomes 429, an outage or dropped connection 503, a request
 * DynamoDB refuses for good 500 (logged by the API).
 * A failed condition (ConditionalCheckFailed, a cancelled transaction) is passed on as it is: each store
 * method catches it where it knows which object and write it was about, and answers with a Conflict,
 * AlreadyExists or NotFound of its own.
 */
export function translatedErrors(doc: DocumentSender): DocumentSender {
  return {
    async send(command) {
      try {
        return await doc.send(command);
      } catch (e) {
        if (e instanceof ConditionalCheckFailedException || e instanceof TransactionCanceledException) throw e;
        if (e instanceof DynamoDBServiceException && THROTTLED.has(e.name))
          throw new TooManyRequestsError('the object store is throttling requests; try again', 1);
        if (e instanceof DynamoDBServiceException && (e.$fault === 'server' || TRANSIENT.has(e.name)))
          throw new StorageUnavailableError(e.name);
        // A request DynamoDB refuses for good (validation, permissions, a missing table) is a fault to log, not to retry.
        if (e instanceof DynamoDBServiceException) throw new StorageFailedError(e.name, { cause: e });
        if (CONNECTION_FAILURE.test(String(e))) throw new StorageUnavailableError(String(e));
        throw e; // not DynamoDB's answer nor the network's: a bug, which the API answers with 500
      }
    },
  };
}
