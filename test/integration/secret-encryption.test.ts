import { GetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../shared/aws/clients.js';
import { DynamoStore } from '../../shared/store/dynamo/dynamo-store.js';
import { SecretSealer } from '../../shared/secrets/sealer.js';
import { LocalKeyProvider } from '../../shared/secrets/local-key-provider.js';
import { systemClock } from '../../shared/clock.js';
import { randomBytes } from 'node:crypto';
import { startApi, type TestApi } from '../support/api-server.js';

/** Secret values never reach DynamoDB in the clear: the raw item is read back and searched for them. */
let api: TestApi;
const raw = () => DynamoDBDocumentClient.from(dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') }));
const rawItem = async (ns: string, name: string) => (await raw().send(new GetCommand({ TableName: api.stack.tableName, Key: { pk: `Secret#${ns}`, sk: name } }))).Item ?? {};

beforeAll(async () => {
  api = await startApi();
});

describe('Secrets are encrypted at rest', () => {
  it('stores neither the value nor its base64 form; the API still answers the data', async () => {
    const value = 'hunter2-correct-horse-battery-staple';
    const created = await api.call('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: value } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const item = await rawItem('default', 'db');
    const dump = JSON.stringify(item);
    expect(dump).not.toContain(value);
    expect(dump).not.toContain(Buffer.from(value).toString('base64'));
    expect(String(item.sec)).toMatch(/^v1\./);
    expect(JSON.parse(String(item.o)).data).toBeUndefined(); // the stream image carries no secret data either
    const got = await api.call('GET', '/api/v1/namespaces/default/secrets/db');
    expect(Buffer.from(got.body.data.password, 'base64').toString()).toBe(value);
    // Updates re-seal; a patch keeps the other keys.
    const patched = await api.call('PATCH', '/api/v1/namespaces/default/secrets/db', { data: { user: Buffer.from('admin').toString('base64') } }, 'application/merge-patch+json');
    expect(patched.status).toBe(200);
    const again = await api.call('GET', '/api/v1/namespaces/default/secrets/db');
    expect(Object.keys(again.body.data).sort()).toEqual(['password', 'user']);
    expect(JSON.stringify(await rawItem('default', 'db'))).not.toContain(Buffer.from('admin').toString('base64'));
  });

  it('cannot be opened with another key, nor moved to another Secret', async () => {
    await api.call('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'other' }, stringData: { k: 'v' } });
    const client = dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') });
    const wrongKey = new DynamoStore(client, api.stack.tableName, systemClock, new SecretSealer(new LocalKeyProvider(randomBytes(32)), systemClock));
    await expect(wrongKey.get({ kind: 'Secret', namespace: 'default', name: 'db' })).rejects.toThrow();
    const noKey = new DynamoStore(client, api.stack.tableName, systemClock);
    await expect(noKey.get({ kind: 'Secret', namespace: 'default', name: 'db' })).rejects.toThrow(/encrypted/);
    // The sealed value is bound to its object: copying db's ciphertext onto "other" does not open.
    const sealer = new SecretSealer(new LocalKeyProvider(Buffer.from(process.env.KUMO_SECRETS_KEY ?? '', 'base64')), systemClock);
    const sealed = String((await rawItem('default', 'db')).sec);
    await expect(sealer.open(sealed, 'Secret/default/other')).rejects.toThrow();
    expect(await sealer.open(sealed, 'Secret/default/db')).toContain('password');
  });

  it('leaves objects of other kinds and Secrets without data as they were', async () => {
    await api.call('POST', '/api/v1/namespaces/default/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'empty' }, type: 'Opaque' });
    expect((await rawItem('default', 'empty')).sec).toBeUndefined();
    const got = await api.call('GET', '/api/v1/namespaces/default/secrets/empty');
    expect(got.status).toBe(200);
    expect(got.body.data).toBeUndefined();
  });
});
