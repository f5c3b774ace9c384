import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { GetCommand, DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { kubeconfig } from '../../local/kubeconfig.js';
import { streamsClient } from '../../local/stream-poller.js';
import { inject } from 'vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../shared/aws/clients.js';
import { DynamoStore } from '../../shared/store/dynamo/dynamo-store.js';
import { SecretSealer } from '../../shared/secrets/sealer.js';
import { LocalKeyProvider } from '../../shared/secrets/local-key-provider.js';
import { systemClock } from '../../shared/util/clock.js';
import { randomBytes } from 'node:crypto';
import { startApi, type TestApi } from '../support/api-server.js';

/** Secret values never reach DynamoDB in the clear: the raw item is read back and searched for them. */
let api: TestApi;
const raw = () =>
  DynamoDBDocumentClient.from(dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') }));
const rawItem = async (ns: string, name: string) =>
  (await raw().send(new GetCommand({ TableName: api.stack.tableName, Key: { pk: `Secret#${ns}`, sk: name } }))).Item ??
  {};

beforeAll(async () => {
  api = await startApi();
});

describe('Secrets are encrypted at rest', () => {
  it('stores neither the value nor its base64 form; the API still answers the data', async () => {
    const value = 'hunter2-correct-horse-battery-staple';
    const created = await api.call('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db' },
      stringData: { password: value },
    });
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
    const patched = await api.call(
      'PATCH',
      '/api/v1/namespaces/default/secrets/db',
      { data: { user: Buffer.from('admin').toString('base64') } },
      'application/merge-patch+json',
    );
    expect(patched.status).toBe(200);
    const again = await api.call('GET', '/api/v1/namespaces/default/secrets/db');
    expect(Object.keys(again.body.data).sort()).toEqual(['password', 'user']);
    expect(JSON.stringify(await rawItem('default', 'db'))).not.toContain(Buffer.from('admin').toString('base64'));
  });

  it('cannot be opened with another key, nor moved to another Secret', async () => {
    await api.call('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'other' },
      stringData: { k: 'v' },
    });
    const client = dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') });
    const wrongKey = new DynamoStore(
      client,
      api.stack.tableName,
      systemClock,
      new SecretSealer(new LocalKeyProvider(randomBytes(32)), systemClock),
    );
    await expect(wrongKey.get({ kind: 'Secret', namespace: 'default', name: 'db' })).rejects.toThrow();
    const noKey = new DynamoStore(client, api.stack.tableName, systemClock);
    await expect(noKey.get({ kind: 'Secret', namespace: 'default', name: 'db' })).rejects.toThrow(/encrypted/);
    // The sealed value is bound to its object: copying db's ciphertext onto "other" does not open.
    const sealer = new SecretSealer(
      new LocalKeyProvider(Buffer.from(process.env.KUMO_SECRETS_KEY ?? '', 'base64')),
      systemClock,
    );
    const sealed = String((await rawItem('default', 'db')).sec);
    await expect(sealer.open(sealed, 'Secret/default/other')).rejects.toThrow();
    expect(await sealer.open(sealed, 'Secret/default/db')).toContain('password');
  });

  it('leaves objects of other kinds and Secrets without data as they were', async () => {
    await api.call('POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'empty' },
      type: 'Opaque',
    });
    expect((await rawItem('default', 'empty')).sec).toBeUndefined();
    const got = await api.call('GET', '/api/v1/namespaces/default/secrets/empty');
    expect(got.status).toBe(200);
    expect(got.body.data).toBeUndefined();
  });
});

const run = promisify(execFile);
const kubectlPath = await run('sh', ['-c', 'command -v kubectl']).then(
  (r) => r.stdout.trim(),
  () => '',
);

describe.skipIf(!kubectlPath)('a Secret applied with kubectl', () => {
  it('keeps its values, and the last-applied annotation that repeats them, out of every attribute but the sealed one, in the table and in its stream', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumo-secret-'));
    writeFileSync(join(dir, 'kubeconfig'), kubeconfig({ server: api.url }));
    const [plain, viaData] = ['applied-plain-value-7f3a9c', 'applied-data-value-51be02'];
    const manifest = `apiVersion: v1
kind: Secret
metadata:
  name: applied
  namespace: default
  labels: { app: db }
  annotations: { team: storage }
stringData:
  password: ${plain}
data:
  token: ${Buffer.from(viaData).toString('base64')}
`;
    writeFileSync(join(dir, 'secret.yaml'), manifest);
    const kubectl = (...args: string[]) =>
      run(kubectlPath, ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args]);
    await kubectl('apply', '-f', join(dir, 'secret.yaml'));
    // A second apply with a changed value writes again (and the annotation again).
    writeFileSync(join(dir, 'secret.yaml'), manifest.replace(plain, `${plain}-2`));
    await kubectl('apply', '-f', join(dir, 'secret.yaml'));

    const forms = [
      plain,
      `${plain}-2`,
      viaData,
      Buffer.from(plain).toString('base64'),
      Buffer.from(`${plain}-2`).toString('base64'),
      Buffer.from(viaData).toString('base64'),
    ];
    const leaks = (what: string, value: unknown) =>
      forms.filter((f) => JSON.stringify(value).includes(f)).map((f) => `${what}: ${f}`);

    // The table: every attribute of every item except the sealed one.
    const items = (await raw().send(new ScanCommand({ TableName: api.stack.tableName }))).Items ?? [];
    const secret = items.find((i) => i.pk === 'Secret#default' && i.sk === 'applied');
    expect(secret?.sec).toMatch(/^v1\./);
    const stored = JSON.parse(String(secret?.o));
    expect(stored.metadata.annotations).toEqual({ team: 'storage' });
    expect(items.flatMap((i) => leaks(`${i.pk}/${i.sk}`, { ...i, sec: undefined }))).toEqual([]);

    // The stream: every record's images (what dispatch, and any other reader, sees).
    const streams = streamsClient(inject('dynamoEndpoint'), 'us-east-1');
    const table = await dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') }).send(
      new DescribeTableCommand({ TableName: api.stack.tableName }),
    );
    const stream = await streams.send(new DescribeStreamCommand({ StreamArn: table.Table?.LatestStreamArn }));
    let records = 0;
    const found: string[] = [];
    for (const shard of stream.StreamDescription?.Shards ?? []) {
      let iterator = (
        await streams.send(
          new GetShardIteratorCommand({
            StreamArn: table.Table?.LatestStreamArn,
            ShardId: shard.ShardId,
            ShardIteratorType: 'TRIM_HORIZON',
          }),
        )
      ).ShardIterator;
      for (let page = 0; iterator && page < 50; page++) {
        const out = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        for (const r of out.Records ?? []) {
          records++;
          for (const image of [r.dynamodb?.NewImage, r.dynamodb?.OldImage])
            if (image) found.push(...leaks(`stream ${r.eventName}`, { ...image, sec: undefined }));
        }
        if (!out.Records?.length) break;
        iterator = out.NextShardIterator;
      }
    }
    expect(records).toBeGreaterThan(0);
    expect(found).toEqual([]);

    // kubectl still sees what it applied: the values, and its annotation for the next apply's three-way diff.
    const got = JSON.parse((await kubectl('get', 'secret', 'applied', '-o', 'json')).stdout);
    expect(Buffer.from(got.data.password, 'base64').toString()).toBe(`${plain}-2`);
    expect(Buffer.from(got.data.token, 'base64').toString()).toBe(viaData);
    expect(
      JSON.parse(got.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).stringData.password,
    ).toBe(`${plain}-2`);
    expect(got.metadata.annotations.team).toBe('storage');
    rmSync(dir, { recursive: true, force: true });
  });
});
