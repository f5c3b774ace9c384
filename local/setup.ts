import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { AlreadyExistsError } from '../shared/model/errors.js';
import { rootCAConfigMap } from '../shared/model/service-accounts.js';
import { kindNamed, typeByKindName } from '../shared/model/kinds.js';
import { BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES } from '../shared/auth/bootstrap-policy.js';
import { RbacPolicy } from '../shared/auth/rbac-policy.js';
import { DEFAULT_CLASS_ANNOTATION, LOCAL_PROVISIONER } from '../shared/model/storage.js';
import type { ObjectService } from '../shared/apiserver/object-service.js';
import { WORK_QUEUES, deadLetterQueueName, queueName } from '../shared/queue/queues.js';
import type { QueueName } from '../shared/queue/work-queue.js';
import { objectsTableDefinition } from '../shared/store/dynamo/schema.js';

/** Idempotent creation of what the offline stack needs; on AWS, serverless.yml declares the same. */

export async function ensureObjectsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException)) throw e;
  }
  try {
    await client.send(new CreateTableCommand(objectsTableDefinition(tableName)));
  } catch (e) {
    // Another process created it between our describe and create: that is the state we wanted.
    if ((e as Error).name !== 'ResourceInUseException') throw e;
  }
  for (let i = 0; i < 100; i++) {
    const t = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (t.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    }),
  );
}

export async function ensureQueues(sqs: SQSClient, prefix: string): Promise<Record<QueueName, string>> {
  const urls: Record<QueueName, string> = { scheduler: '', controllers: '' };
  for (const q of WORK_QUEUES) {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: deadLetterQueueName(prefix, q) }));
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    const main = await sqs.send(
      new CreateQueueCommand({
        QueueName: queueName(prefix, q),
        Attributes: {
          VisibilityTimeout: String(q.visibilityTimeoutSeconds),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: q.maxReceiveCount }),
        },
      }),
    );
    urls[q.name] = main.QueueUrl ?? '';
  }
  return urls;
}

/** The namespaces every Kubernetes cluster starts with. */
export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function ensureSystemNamespaces(service: ObjectService): Promise<void> {
  const type = typeByKindName('Namespace');
  if (!type) throw new Error('Namespace kind is not registered');
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await service.create(type, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
    }
  }
}

/**
 * The bootstrap ClusterRoles and ClusterRoleBindings (auth/bootstrap-policy.ts), stored so `kubectl get
 * clusterroles` lists them as in any cluster; admin, edit and view with the rules they aggregate, as
 * Kubernetes' aggregation controller writes them. Existing ones are left as they are (an administrator's
 * change stands); the authorizer falls back to the built-in definition of any that is missing.
 */
export async function ensureBootstrapPolicy(service: ObjectService): Promise<void> {
  const policy = new RbacPolicy({
    roles: [],
    clusterRoles: [...BOOTSTRAP_CLUSTER_ROLES],
    roleBindings: [],
    clusterRoleBindings: [],
  });
  const objects = [
    ...BOOTSTRAP_CLUSTER_ROLES.map((r) => ({ ...r, rules: policy.clusterRoleRules(r.metadata.name ?? '') ?? [] })),
    ...BOOTSTRAP_CLUSTER_ROLE_BINDINGS,
  ];
  for (const o of objects) {
    try {
      await service.create(kindNamed(o.kind), undefined, structuredClone(o));
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
    }
  }
}

/**
 * `kube-root-ca.crt` in every namespace that lacks it: namespaces made before the root CA publisher
 * existed, or before the change path ran (the system namespaces at start). Others' are the publisher's.
 */
export async function ensureRootCAConfigMaps(service: ObjectService, pem: string): Promise<void> {
  for (const ns of (await service.list(kindNamed('Namespace'), undefined)).items) {
    if (ns.metadata.deletionTimestamp) continue;
    try {
      await service.create(kindNamed('ConfigMap'), ns.metadata.name, rootCAConfigMap(ns.metadata.name, pem));
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
    }
  }
}

/**
 * The offline stack's default StorageClass, `local`: kumo.dev/local volumes (a directory on the node its
 * first pod goes to, so WaitForFirstConsumer), deleted with their claims, as k3s's `local-path` class.
 */
export const LOCAL_STORAGE_CLASS = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'local', annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
  provisioner: LOCAL_PROVISIONER,
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'WaitForFirstConsumer',
};

export async function ensureLocalStorageClass(service: ObjectService): Promise<void> {
  const type = typeByKindName('StorageClass');
  if (!type) throw new Error('StorageClass kind is not registered');
  try {
    await service.create(type, undefined, LOCAL_STORAGE_CLASS);
  } catch (e) {
    if (!(e instanceof AlreadyExistsError)) throw e;
  }
}
