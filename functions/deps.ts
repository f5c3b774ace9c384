import { randomUUID } from 'node:crypto';
import { rootCABundle } from '../shared/aws/root-ca.js';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { apiDeps } from '../shared/apiserver/wiring.js';
import type { ApiDeps } from '../shared/apiserver/http/handler.js';
import { dynamoClient, liteSqsClient } from '../shared/aws/clients.js';
import { systemClock } from '../shared/util/clock.js';
import { loadConfig, type Config } from '../shared/config.js';
import { storeEventRecorder } from '../shared/events/recorder.js';
import { ControllerManager } from '../shared/controllers/manager.js';
import { DEFAULT_LIFECYCLE } from '../shared/controllers/nodelifecycle/plan.js';
import { SqsWorkQueue } from '../shared/queue/sqs/sqs-work-queue.js';
import type { WorkQueue } from '../shared/queue/work-queue.js';
import { Scheduler } from '../shared/scheduling/scheduler.js';
import { SnapshotCache } from '../shared/scheduling/snapshot.js';
import { DynamoStore } from '../shared/store/dynamo/dynamo-store.js';
import { DynamoLeaseStore } from '../shared/store/dynamo/dynamo-lease-store.js';
import { DynamoMetricsStore } from '../shared/store/dynamo/dynamo-metrics-store.js';
import { DynamoSideItems } from '../shared/store/dynamo/side-items.js';
import { DynamoServicesDigestStore } from '../shared/store/dynamo/dynamo-services-digest.js';
import type { AutoscalerMemory } from '../shared/controllers/autoscaler/controller.js';
import { DynamoTokenStore } from '../shared/store/dynamo/dynamo-token-store.js';
import { DynamoSigningKeyStore } from '../shared/store/dynamo/dynamo-signing-key-store.js';
import { DynamoGenerationStore } from '../shared/store/dynamo/dynamo-generation.js';
import { noWakeups, type NodeWakeups } from '../shared/nodes/wakeups.js';
import { DEFAULT_NODE_TIMINGS } from '../shared/apiserver/node-service.js';
import { FileLogStore } from '../shared/logs/file-log-store.js';
import type { LogStore } from '../shared/logs/log-store.js';
import { CloudWatchLogStore } from '../shared/aws/cloudwatch-log-store.js';
import { credentialProvider } from '../shared/aws/lite/credentials.js';
import { AwsJsonClient } from '../shared/aws/lite/json-client.js';
import { SqsNodeWakeups } from '../shared/queue/sqs/sqs-node-wakeups.js';
import { SecretSealer } from '../shared/secrets/sealer.js';
import { KmsKeyProvider } from '../shared/aws/kms-key-provider.js';
import { LocalKeyProvider } from '../shared/secrets/local-key-provider.js';
import { LocalLoadBalancers } from '../shared/controllers/service/load-balancers.js';

/** Clients are built once per cold start and reused by every invocation of the container. */
let config: Config | undefined;
let store: DynamoStore | undefined;
let queue: WorkQueue | undefined;
let api: ApiDeps | undefined;
let snapshots: SnapshotCache | undefined;
let wakeups: NodeWakeups | undefined;
let leases: DynamoLeaseStore | undefined;
let metrics: DynamoMetricsStore | undefined;
let servicesDigest: DynamoServicesDigestStore | undefined;
let rbacGeneration: DynamoGenerationStore | undefined;
let dynamo: DynamoDBClient | undefined;
let sealer: SecretSealer | undefined;

export const logError = (message: string, error: unknown) =>
  console.error(JSON.stringify({ level: 'error', message, error: String((error as Error)?.stack ?? error) }));

function base() {
  config ??= loadConfig();
  // One DynamoDB client (one connection pool) for the objects, leases and tokens of this container.
  dynamo ??= dynamoClient(config);
  sealer ??= secretSealer(config);
  store ??= new DynamoStore(dynamo, config.tableName, systemClock, sealer);
  return { config, store, dynamo, sealer };
}

/** Secret values are sealed with KMS data keys on AWS, with a local key offline. */
function secretSealer(c: Config): SecretSealer | undefined {
  if (c.secrets.kmsKeyId) {
    const kms = new AwsJsonClient('kms', c.region, credentialProvider({ env: c.envCredentials }));
    return new SecretSealer(new KmsKeyProvider(kms, c.secrets.kmsKeyId, { 'kumo:table': c.tableName }), systemClock);
  }
  return c.secrets.localKey ? new SecretSealer(new LocalKeyProvider(c.secrets.localKey), systemClock) : undefined;
}

export function apiDependencies(): ApiDeps {
  const { config: c } = base();
  api ??= apiDeps(
    base().store,
    systemClock,
    logError,
    {
      leases: leaseStore(),
      wakeups: nodeWakeups(),
      timings: c.nodeTimings,
      logs: logStore(c),
      metrics: metricsStore(),
      servicesDigest: servicesDigestStore(),
      ...(c.apiURL ? { apiURL: c.apiURL } : {}),
    },
    {
      tokens: new DynamoTokenStore(base().dynamo, c.tableName),
      // Sealed as Secrets are: the key that signs ServiceAccount tokens is the most sensitive value kept.
      signingKeys: new DynamoSigningKeyStore(base().dynamo, c.tableName, base().sealer),
      rbacGeneration: rbacGenerationStore(),
      settings: c.auth,
    },
    c.serviceNetwork,
    () => rootCABundle(c.rootCAFile),
  );
  return api;
}

/** Container logs: CloudWatch Logs on AWS, the agents' files offline, none when neither is configured. */
function logStore(c: Config): LogStore | undefined {
  if (c.logDir) return new FileLogStore(c.logDir); // offline: the local agents' files
  return c.logGroup
    ? new CloudWatchLogStore(
        new AwsJsonClient('logs', c.region, credentialProvider({ env: c.envCredentials })),
        c.logGroup,
      )
    : undefined;
}

export function leaseStore(): DynamoLeaseStore {
  const { config: c } = base();
  leases ??= new DynamoLeaseStore(base().dynamo, c.tableName);
  return leases;
}

/** The RBAC objects' generation: bumped by the controllers on any change, read by the API's authorizer. */
export function rbacGenerationStore(): DynamoGenerationStore {
  rbacGeneration ??= new DynamoGenerationStore(base().dynamo, base().config.tableName, 'rbac');
  return rbacGeneration;
}

export function servicesDigestStore(): DynamoServicesDigestStore {
  servicesDigest ??= new DynamoServicesDigestStore(base().dynamo, base().config.tableName);
  return servicesDigest;
}

export function metricsStore(): DynamoMetricsStore {
  metrics ??= new DynamoMetricsStore(base().dynamo, base().config.tableName);
  return metrics;
}

/** Per-node wake-up queues when a prefix is configured; otherwise agents rely on their resync. */
export function nodeWakeups(): NodeWakeups {
  const { config: c } = base();
  wakeups ??= c.nodeQueuePrefix ? new SqsNodeWakeups(liteSqsClient(c), c.nodeQueuePrefix) : noWakeups;
  return wakeups;
}

export function storeAndQueue() {
  return { store: base().store, queue: workQueue(), config: base().config };
}

export function workQueue(): WorkQueue {
  const { config: c } = base();
  queue ??= new SqsWorkQueue(liteSqsClient(c), c.queueUrls);
  return queue;
}

export function newControllerManager(): ControllerManager {
  const { store: s } = base();
  const { nodeLifecycle: l, nodeTimings } = base().config;
  const heartbeatSeconds = nodeTimings?.heartbeatSeconds ?? DEFAULT_NODE_TIMINGS.heartbeatSeconds;
  return new ControllerManager({
    store: s,
    service: apiDependencies().service,
    clock: systemClock,
    events: storeEventRecorder(s, systemClock, 'controller-manager', randomUUID),
    queue: workQueue(),
    logError,
    autoscaling: {
      metrics: metricsStore(),
      memory: new DynamoSideItems<AutoscalerMemory>(base().dynamo, base().config.tableName, 'Autoscaler#', 3600),
    },
    loadBalancers: base().config.loadBalancerProvider === 'local' ? new LocalLoadBalancers() : undefined,
    servicesDigest: servicesDigestStore(),
    rbacGeneration: rbacGenerationStore(),
    rootCA: () => rootCABundle(base().config.rootCAFile),
    nodeLifecycle: {
      leases: leaseStore(),
      ledger: s,
      wakeups: nodeWakeups(),
      settings: {
        ...DEFAULT_LIFECYCLE,
        graceMs: l.graceSeconds * 1000,
        defaultTolerationMs: l.tolerationSeconds * 1000,
        checkPeriodMs: l.periodSeconds * 1000,
        missedHeartbeatMs: (heartbeatSeconds + 5) * 1000,
      },
    },
  });
}

/** A scheduler per invocation; the snapshot cache lives as long as the warm container. */
export function newScheduler(): Scheduler {
  const { config: c, store: s } = base();
  snapshots ??= new SnapshotCache(s, systemClock);
  return new Scheduler({
    store: s,
    ledger: s,
    queue: workQueue(),
    clock: systemClock,
    events: storeEventRecorder(s, systemClock, 'default-scheduler', randomUUID),
    strategy: c.schedulingStrategy,
    logError,
    snapshots,
  });
}
