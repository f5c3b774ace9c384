import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LiteDocumentClient, type DocumentSender } from '../../aws/lite/dynamo-document.js';
import type { TokenRecord } from '../../auth/principal.js';
import type { TokenStore } from '../../auth/token-store.js';
import { translatedErrors } from './translated-errors.js';
import { queryAll } from './query-all.js';

/**
 * Token records live in the objects table under their own partition, without an `o` attribute: they
 * are not API objects, the stream's consumers ignore them and `kubectl` can never list them. Only the
 * secret's hash is stored.
 */
const TOKEN_PK = 'Token#';

export class DynamoTokenStore implements TokenStore {
  private readonly doc: DocumentSender;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = translatedErrors(new LiteDocumentClient(client));
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: TOKEN_PK, sk: id }, ConsistentRead: true }),
    );
    return out.Item ? recordOf(out.Item) : undefined;
  }

  async put(r: TokenRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { pk: TOKEN_PK, sk: r.id, tok: JSON.stringify(r) } }),
    );
  }

  async list(): Promise<TokenRecord[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': TOKEN_PK },
      ConsistentRead: true,
    });
    return items.map(recordOf);
  }

  async revoke(id: string, at: string): Promise<boolean> {
    const current = await this.get(id);
    if (!current) return false;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: TOKEN_PK, sk: id },
          UpdateExpression: 'SET tok = :tok',
          // Over the record read above only, so a concurrent re-issue is not overwritten with the old hash (the retry revokes that one).
          ConditionExpression: 'tok = :old',
          ExpressionAttributeValues: {
            ':tok': JSON.stringify({ ...current, revokedAt: current.revokedAt ?? at }),
            ':old': JSON.stringify(current),
          },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return this.revoke(id, at);
      throw e;
    }
  }
}

const recordOf = (item: Record<string, unknown>): TokenRecord => JSON.parse(String(item.tok)) as TokenRecord;
