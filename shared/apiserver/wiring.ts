import { randomUUID } from 'node:crypto';
import { BulkApplier } from './bulk-apply.js';
import type { ApiDeps } from './http/handler.js';
import { ObjectService } from './object-service.js';
import type { Clock } from '../util/clock.js';
import { storeEventRecorder } from '../events/recorder.js';
import { DEFAULT_NODE_TIMINGS, NodeService, type NodeTimings } from './node-service.js';
import { noWakeups, type NodeWakeups } from '../nodes/wakeups.js';
import type { LeaseStore } from '../store/leases.js';
import type { LogStore } from '../logs/log-store.js';
import type { MetricsStore } from '../store/metrics.js';
import type { ServicesDigestStore } from '../store/services-digest.js';
import { MetricsApi } from './metrics-api.js';
import type { Store } from '../store/store.js';
import { Gate } from './gate.js';
import { DEFAULT_AUTH, type AuthSettings } from '../auth/settings.js';
import type { TokenStore } from '../auth/token-store.js';
import type { SigningKeyStore } from '../auth/signing-key-store.js';
import type { GenerationStore } from '../store/generation.js';
import { TokenService } from '../auth/token-service.js';
import { bindFromRequest } from '../scheduling/binding.js';
import { randomNameSuffix } from '../util/names.js';
import { DEFAULT_SERVICE_NETWORK, type ServiceNetwork } from '../model/service-network.js';

/** Builds the API's object graph over a store: used by the Lambda handler and by local tools alike. */
export function apiDeps(
  store: Store,
  clock: Clock,
  logError: ApiDeps['logError'],
  nodes: NodeParts = {},
  auth: AuthParts = {},
  network: ServiceNetwork = DEFAULT_SERVICE_NETWORK,
  /** The CA bundle new namespaces get as `kube-root-ca.crt` (read when first needed, not at cold start). */
  rootCA?: () => string,
): ApiDeps {
  const serviceDeps = {
    store,
    clock,
    newUid: randomUUID,
    nameSuffix: randomNameSuffix,
    network,
    ...(rootCA ? { rootCA } : {}),
  };
  const service = new ObjectService(serviceDeps);
  const nodeService = nodes.leases
    ? new NodeService({
        store,
        service,
        leases: nodes.leases,
        wakeups: nodes.wakeups ?? noWakeups,
        clock,
        events: (component) => storeEventRecorder(store, clock, component, randomUUID),
        timings: nodes.timings ?? DEFAULT_NODE_TIMINGS,
        network,
        metrics: nodes.metrics,
        servicesDigest: nodes.servicesDigest,
        ...(nodes.apiURL ? { apiURL: nodes.apiURL } : {}),
      })
    : undefined;
  const tokens = auth.tokens ?? noTokens;
  const gate = new Gate(auth.settings ?? DEFAULT_AUTH, tokens, store, clock, auth.signingKeys, auth.rbacGeneration);
  const bind = (namespace: string, name: string, binding: unknown) =>
    bindFromRequest(
      { store, ledger: store, clock, events: storeEventRecorder(store, clock, 'default-scheduler', randomUUID) },
      namespace,
      name,
      binding,
    );
  return {
    service,
    clock,
    bulk: new BulkApplier(service, serviceDeps),
    nodes: nodeService,
    logs: nodes.logs,
    ...(nodes.metrics ? { metrics: new MetricsApi(store, nodes.metrics, clock) } : {}),
    logError,
    gate,
    tokens: new TokenService(tokens, clock),
    bind,
  };
}

/** What the node agents' endpoints need besides the store; without leases those endpoints answer 404. */
export interface NodeParts {
  leases?: LeaseStore;
  wakeups?: NodeWakeups;
  timings?: NodeTimings;
  logs?: LogStore;
  /** Agents' resource usage: the metrics API and the autoscaler read it. */
  metrics?: MetricsStore;
  /** What every node serves, as a digest: fetches list Services only when it moved. */
  servicesDigest?: ServicesDigestStore;
  /** The API's https URL, for pods where no `kubernetes` Service is kept. */
  apiURL?: string;
}

/** Who may call the API. Without a token store no token is valid (in-process tools need none). */
export interface AuthParts {
  tokens?: TokenStore;
  /** The ServiceAccount token signing key; without it no ServiceAccount token is issued or valid. */
  signingKeys?: SigningKeyStore;
  /** The RBAC objects' generation: a warm container re-lists them only when it moved. */
  rbacGeneration?: GenerationStore;
  settings?: AuthSettings;
}

const noTokens: TokenStore = {
  get: () => Promise.resolve(undefined),
  put: () => Promise.reject(new Error('this API was built without a token store')),
  list: () => Promise.resolve([]),
  revoke: () => Promise.resolve(false),
};
