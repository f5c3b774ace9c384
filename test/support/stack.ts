import { randomBytes, randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { apiDeps } from '../../shared/apiserver/wiring.js';
import type { ApiDeps } from '../../shared/apiserver/http/handler.js';
import { dynamoClient } from '../../shared/aws/clients.js';
import type { Clock } from '../../shared/util/clock.js';
import { systemClock } from '../../shared/util/clock.js';
import { DynamoStore } from '../../shared/store/dynamo/dynamo-store.js';
import { DynamoTokenStore } from '../../shared/store/dynamo/dynamo-token-store.js';
import { DynamoSigningKeyStore } from '../../shared/store/dynamo/dynamo-signing-key-store.js';
import { DEFAULT_AUTH } from '../../shared/auth/settings.js';
import { SecretSealer } from '../../shared/secrets/sealer.js';
import { LocalKeyProvider } from '../../shared/secrets/local-key-provider.js';
import { ensureBootstrapPolicy, ensureObjectsTable, ensureSystemNamespaces } from '../../local/setup.js';

export interface TestStack {
  tableName: string;
  store: DynamoStore;
  api: ApiDeps;
}

/** A fresh objects table in the shared DynamoDB Local, with the system namespaces, so test files never see each other's data. */
export async function freshStack(clock: Clock = systemClock): Promise<TestStack> {
  const tableName = `kumo-test-${randomUUID().slice(0, 8)}`;
  const client = dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') });
  await ensureObjectsTable(client, tableName);
  // Secrets are sealed as under npm start; the handlers this file's tests start read the same key from the environment.
  process.env.KUMO_SECRETS_KEY ??= randomBytes(32).toString('base64');
  const store = new DynamoStore(client, tableName, clock, testSealer(clock));
  const api = apiDeps(
    store,
    clock,
    (message, error) => console.error(message, error),
    {},
    {
      tokens: new DynamoTokenStore(client, tableName),
      signingKeys: new DynamoSigningKeyStore(client, tableName, testSealer(clock)),
      settings: { ...DEFAULT_AUTH, mode: 'dev-loopback' },
    },
  );
  await ensureSystemNamespaces(api.service);
  await ensureBootstrapPolicy(api.service);
  return { tableName, store, api };
}

/** The sealer for this test file's key (KUMO_SECRETS_KEY, set by freshStack). */
export function testSealer(clock: Clock = systemClock): SecretSealer {
  return new SecretSealer(new LocalKeyProvider(Buffer.from(process.env.KUMO_SECRETS_KEY ?? '', 'base64')), clock);
}
