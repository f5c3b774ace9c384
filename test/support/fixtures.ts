import type { KubeObject } from '../../shared/model/types.js';

/** Fixture builders: a valid object by default, changed only where a test says. */

type Mutate<T> = (o: T) => void;

export class PodBuilder {
  private o: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p1', namespace: 'default', labels: { app: 'web' } },
    spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] },
  };
  named(name: string) {
    this.o.metadata.name = name;
    return this;
  }
  inNamespace(ns: string) {
    this.o.metadata.namespace = ns;
    return this;
  }
  onNode(node: string) {
    (this.o.spec as Record<string, unknown>).nodeName = node;
    return this;
  }
  with(mutate: Mutate<KubeObject>) {
    mutate(this.o);
    return this;
  }
  build(): KubeObject {
    return structuredClone(this.o);
  }
}
export const makePod = () => new PodBuilder();

export function makeDeployment(name = 'web', mutate?: Mutate<KubeObject & { spec: Record<string, any> }>): KubeObject {
  const o = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'busybox:1.36',
              ports: [{ containerPort: 8080 }],
              resources: { requests: { cpu: '100m', memory: '32Mi' } },
            },
          ],
        },
      },
    } as Record<string, any>,
  };
  mutate?.(o);
  return o;
}

export function makeConfigMap(name: string, namespace = 'default', labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data: { key: 'value' } };
}
