import { typeByKindName, type ResourceType } from '../../shared/model/kinds.js';
import type { ObjectService } from '../../shared/apiserver/object-service.js';
import type { KubeObject } from '../../shared/model/types.js';

const T = (kind: string) => typeByKindName(kind) as ResourceType;

/** Registers a Ready node with the given allocatable, as an agent would (create, then status). */
export async function addNode(
  service: ObjectService,
  name: string,
  opts: { cpu?: string; memory?: string; pods?: number; labels?: Record<string, string>; taints?: unknown[] } = {},
) {
  await service.create(T('Node'), undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } },
    spec: { taints: opts.taints },
  });
  const allocatable = { cpu: opts.cpu ?? '4', memory: opts.memory ?? '8Gi', pods: String(opts.pods ?? 110) };
  await service.patch(
    T('Node'),
    '',
    name,
    'merge',
    {
      status: {
        capacity: allocatable,
        allocatable,
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
      },
    },
    'status',
  );
}

export function pod(name: string, cpu: string, extra: (p: KubeObject) => void = () => undefined): KubeObject {
  const p: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { app: 'load' } },
    spec: { containers: [{ name: 'main', image: 'busybox:1.36', resources: { requests: { cpu, memory: '64Mi' } } }] },
  };
  extra(p);
  return p;
}

export const createPod = (service: ObjectService, p: KubeObject) => service.create(T('Pod'), p.metadata.namespace, p);
