import { inject } from 'vitest';
import { beforeAll, describe, expect, it } from 'vitest';
import { handleApiRequest } from '../../shared/apiserver/http/handler.js';
import type { ApiRequest } from '../../shared/apiserver/http/request.js';
import { apiDeps } from '../../shared/apiserver/wiring.js';
import { DEFAULT_AUTH } from '../../shared/auth/settings.js';
import { TokenService } from '../../shared/auth/token-service.js';
import { dynamoClient } from '../../shared/aws/clients.js';
import { DynamoStore } from '../../shared/store/dynamo/dynamo-store.js';
import { DynamoTokenStore } from '../../shared/store/dynamo/dynamo-token-store.js';
import { freshStack, testSealer } from '../support/stack.js';

/** Rate and size limits with a clock the test moves (real DynamoDB Local behind the token store). */
let now = Date.parse('2026-11-22T10:00:00Z');
const clock = { now: () => new Date(now) };
let deps: ReturnType<typeof apiDeps>;
let alice: string;
let bob: string;

const get = (token: string, path = '/api/v1/namespaces/default/configmaps'): ApiRequest => ({
  method: 'GET',
  path,
  query: new URLSearchParams(),
  headers: { authorization: `Bearer ${token}` },
});

beforeAll(async () => {
  const stack = await freshStack();
  const client = dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') });
  const tokens = new DynamoTokenStore(client, stack.tableName);
  deps = apiDeps(
    new DynamoStore(client, stack.tableName, clock, testSealer(clock)),
    clock,
    () => undefined,
    {},
    { tokens, settings: { ...DEFAULT_AUTH, rateLimit: { perSecond: 2, burst: 5 }, maxBodyBytes: 1024 } },
  );
  const service = new TokenService(tokens, clock);
  alice = (await service.createUserToken({ name: 'alice', role: 'cluster-admin' })).token;
  bob = (await service.createUserToken({ name: 'bob', role: 'cluster-admin' })).token;
});

describe('per-principal rate limit', () => {
  it('answers 429 with Retry-After once a caller spends its burst, refills with time, and does not punish others', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) codes.push((await handleApiRequest(get(alice), deps)).statusCode);
    expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await handleApiRequest(get(alice), deps);
    expect(limited.headers['retry-after']).toBe('1');
    expect(JSON.parse(limited.body)).toMatchObject({
      kind: 'Status',
      code: 429,
      reason: 'TooManyRequests',
      details: { retryAfterSeconds: 1 },
    });
    expect((await handleApiRequest(get(bob), deps)).statusCode).toBe(200);
    now += 1_000; // two tokens back
    expect((await handleApiRequest(get(alice), deps)).statusCode).toBe(200);
  });
});

describe('request size limit', () => {
  it('refuses a body over the limit with 413 before parsing it, and stores nothing', async () => {
    const big = JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'big' },
      data: { x: 'y'.repeat(2000) },
    });
    const res = await handleApiRequest(
      {
        method: 'POST',
        path: '/api/v1/namespaces/default/configmaps',
        query: new URLSearchParams(),
        headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/json' },
        body: big,
      },
      deps,
    );
    expect(res.statusCode).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge' });
    expect((await handleApiRequest(get(bob, '/api/v1/namespaces/default/configmaps/big'), deps)).statusCode).toBe(404);
  });
});

describe('the development mode', () => {
  it('is refused by the configuration unless DynamoDB is a loopback emulator', async () => {
    const { loadConfig } = await import('../../shared/config.js');
    expect(() => loadConfig({ KUMO_TABLE: 't', KUMO_AUTH_MODE: 'dev-loopback' })).toThrow(/only allowed offline/);
    expect(() =>
      loadConfig({
        KUMO_TABLE: 't',
        KUMO_AUTH_MODE: 'dev-loopback',
        KUMO_DYNAMODB_ENDPOINT: 'https://dynamodb.us-east-1.amazonaws.com',
      }),
    ).toThrow(/only allowed offline/);
    expect(
      loadConfig({ KUMO_TABLE: 't', KUMO_AUTH_MODE: 'dev-loopback', KUMO_DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' })
        .auth.mode,
    ).toBe('dev-loopback');
    expect(loadConfig({ KUMO_TABLE: 't', KUMO_KMS_KEY_ID: 'alias/k' }).auth.mode).toBe('tokens');
    // Nor will it start on AWS without a KMS key for Secrets, or with a key in its environment.
    expect(() => loadConfig({ KUMO_TABLE: 't' })).toThrow(/KUMO_KMS_KEY_ID/);
    const key = Buffer.alloc(32, 7).toString('base64');
    expect(() => loadConfig({ KUMO_TABLE: 't', KUMO_KMS_KEY_ID: 'alias/k', KUMO_SECRETS_KEY: key })).toThrow(
      /only allowed offline/,
    );
    expect(
      loadConfig({
        KUMO_TABLE: 't',
        KUMO_KMS_KEY_ID: 'alias/k',
        KUMO_SECRETS_KEY: key,
        KUMO_DYNAMODB_ENDPOINT: 'http://localhost:8000',
      }).secrets.localKey?.length,
    ).toBe(32);
  });

  it('treats a tokenless request as the developer only from a loopback address', async () => {
    const stack = await freshStack(); // dev-loopback, as under npm start
    const req = (sourceIp: string): ApiRequest => ({
      method: 'GET',
      path: '/api/v1/namespaces',
      query: new URLSearchParams(),
      headers: {},
      sourceIp,
    });
    expect((await handleApiRequest(req('127.0.0.1'), stack.api)).statusCode).toBe(200);
    expect((await handleApiRequest(req('10.0.0.7'), stack.api)).statusCode).toBe(401);
    expect(
      (
        await handleApiRequest(
          { ...req('127.0.0.1'), headers: { authorization: 'Bearer kumo.bm9wZQ.AAAAAAAAAAAAAAAAAAAAAA' } },
          stack.api,
        )
      ).statusCode,
    ).toBe(401);
  });
});
