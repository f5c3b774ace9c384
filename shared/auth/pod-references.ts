import type { KubeObject } from '../model/types.js';

/** Loosely-typed view of the parts of a pod spec that name ConfigMaps and Secrets. */
interface RefSpec {
  containers?: RefContainer[];
  initContainers?: RefContainer[];
  volumes?: {
    configMap?: { name?: string };
    secret?: { secretName?: string };
    projected?: { sources?: { configMap?: { name?: string }; secret?: { name?: string } }[] };
  }[];
  imagePullSecrets?: { name?: string }[];
}
interface RefContainer {
  env?: { valueFrom?: { configMapKeyRef?: { name?: string }; secretKeyRef?: { name?: string } } }[];
  envFrom?: { configMapRef?: { name?: string }; secretRef?: { name?: string } }[];
}

/** The ConfigMaps and Secrets a pod refers to (env, envFrom, volumes, projected volumes, image pull secrets). */
export function podReferences(pod: KubeObject): { configMaps: Set<string>; secrets: Set<string> } {
  const spec = (pod.spec ?? {}) as RefSpec;
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  const add = (set: Set<string>, name: string | undefined) => {
    if (name) set.add(name);
  };
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    for (const e of c.env ?? []) {
      add(configMaps, e.valueFrom?.configMapKeyRef?.name);
      add(secrets, e.valueFrom?.secretKeyRef?.name);
    }
    for (const f of c.envFrom ?? []) {
      add(configMaps, f.configMapRef?.name);
      add(secrets, f.secretRef?.name);
    }
  }
  for (const v of spec.volumes ?? []) {
    add(configMaps, v.configMap?.name);
    add(secrets, v.secret?.secretName);
    for (const s of v.projected?.sources ?? []) {
      add(configMaps, s.configMap?.name);
      add(secrets, s.secret?.name);
    }
  }
  for (const s of spec.imagePullSecrets ?? []) add(secrets, s.name);
  return { configMaps, secrets };
}
