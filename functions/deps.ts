import { apiDeps } from '../shared/api/wiring.js';
import type { ApiDeps } from '../shared/api/http/handler.js';
import { dynamoClient } from '../shared/aws/clients.js';
import { systemClock } from '../shared/clock.js';
import { loadConfig } from '../shared/config.js';
import { DynamoStore } from '../shared/store/dynamo/dynamo-store.js';

/** Built once per cold start and reused by every invocation of the container. */
let api: ApiDeps | undefined;

export function apiDependencies(): ApiDeps {
  if (!api) {
    const config = loadConfig();
    const store = new DynamoStore(dynamoClient(config), config.tableName, systemClock);
    api = apiDeps(store, systemClock, (message, error) => console.error(JSON.stringify({ level: 'error', message, error: String((error as Error)?.stack ?? error) })));
  }
  return api;
}
