import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { LiteDocumentClient, type DocumentSender } from '../../aws/lite/dynamo-document.js';
import type { SigningKeyStore } from '../../auth/signing-key-store.js';
import type { SecretSealer } from '../../secrets/sealer.js';
import { translatedErrors } from './translated-errors.js';

/**
 * The ServiceAccount token signing key, in the objects table under a partition of its own with no `o`
 * attribute (like tokens: no API lists it, the stream's consumers ignore it), sealed as Secret values
 * are (KMS data keys on AWS, the local key offline) when a sealer is configured.
 */
const KEY = { pk: 'SigningKey#', sk: 'service-accounts' };
const CONTEXT = 'SigningKey/service-accounts';

export class DynamoSigningKeyStore implements SigningKeyStore {
  private readonly doc: DocumentSender;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly sealer?: SecretSealer,
  ) {
    this.doc = translatedErrors(new LiteDocumentClient(client));
  }

  async get(): Promise<string | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: KEY, ConsistentRead: true }));
    const k = out.Item?.k;
    if (typeof k !== 'string') return undefined;
    return out.Item?.sealed && this.sealer ? this.sealer.open(k, CONTEXT) : k;
  }

  async putIfAbsent(pem: string): Promise<boolean> {
    const k = this.sealer ? await this.sealer.seal(pem, CONTEXT) : pem;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...KEY, k, sealed: Boolean(this.sealer) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }
}
