import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LiteDocumentClient, type DocumentSender } from '../../aws/lite/dynamo-document.js';
import type { GenerationStore } from '../generation.js';
import { translatedErrors } from './translated-errors.js';

/**
 * A generation counter as one item of the objects table, like a lease: no `o` attribute, so no stream
 * consumer sees its writes and no change record is made. `name` says which (`rbac`).
 */
export class DynamoGenerationStore implements GenerationStore {
  private readonly doc: DocumentSender;
  private readonly key: { pk: string; sk: string };

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    name: string,
  ) {
    this.doc = translatedErrors(new LiteDocumentClient(client));
    this.key = { pk: 'Generation#', sk: name };
  }

  async read(): Promise<number> {
    // Strongly consistent: a bump must be seen by the next check.
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: this.key, ConsistentRead: true }));
    return Number(out.Item?.gen ?? 0);
  }

  async bump(): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: this.key,
        UpdateExpression: 'ADD gen :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }
}
