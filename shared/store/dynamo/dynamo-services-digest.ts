import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LiteDocumentClient, type DocumentSender } from '../../aws/lite/dynamo-document.js';
import type { ServicesDigestState, ServicesDigestStore } from '../services-digest.js';
import { translatedErrors } from './translated-errors.js';

/**
 * The services digest as one item of the objects table, like a lease: no `o` attribute, so no stream
 * consumer sees its writes and no change record is made.
 */
const KEY = { pk: 'ServicesDigest#', sk: 'cluster' };

export class DynamoServicesDigestStore implements ServicesDigestStore {
  private readonly doc: DocumentSender;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = translatedErrors(new LiteDocumentClient(client));
  }

  async read(): Promise<ServicesDigestState> {
    // Strongly consistent: a bump must be seen by the next fetch, or a node would keep its old view.
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: KEY, ConsistentRead: true }));
    const i = out.Item ?? {};
    return {
      generation: Number(i.gen ?? 0),
      ...(typeof i.digest === 'string' ? { digest: i.digest } : {}),
      ...(i.digestGen !== undefined ? { digestGeneration: Number(i.digestGen) } : {}),
    };
  }

  async bump(): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: KEY,
        UpdateExpression: 'ADD gen :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }

  async record(generation: number, digest: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: KEY,
          UpdateExpression: 'SET digest = :d, digestGen = :g',
          ConditionExpression: generation === 0 ? 'attribute_not_exists(gen) OR gen = :g' : 'gen = :g',
          ExpressionAttributeValues: { ':d': digest, ':g': generation },
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }
}
