import type { KubeObject } from './types.js';
import { dns1123Label } from './validation/names.js';

/**
 * Server-side defaulting, as Kubernetes' SetDefaults_* functions do it, so that a stored object
 * always says what will happen (restartPolicy, strategy, pull policy, ...). Mutates a copy it owns.
 */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
/** The object elements of a list; anything else in it is left for validation to report. */
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter((x): x is Obj => !!x && typeof x === 'object' && !Array.isArray(x)) : []);
const setIfAbsent = (o: Obj, key: string, value: unknown) => {
  if (o[key] === undefined) o[key] = value;
};

/** `Always` for `:latest` or untagged images, else `IfNotPresent` (digests count as tagged). */
export function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return 'Always';
  return lastSegment.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(p: unknown) {
  if (!p || typeof p !== 'object') return;
  const probe = p as Obj;
  setIfAbsent(probe, 'timeoutSeconds', 1);
  setIfAbsent(probe, 'periodSeconds', 10);
  setIfAbsent(probe, 'successThreshold', 1);
  setIfAbsent(probe, 'failureThreshold', 3);
  const http = obj(probe.httpGet);
  if (probe.httpGet) {
    setIfAbsent(http, 'path', '/');
    setIfAbsent(http, 'scheme', 'HTTP');
  }
  // kubectl describe dereferences grpc.service without a nil check: a probe without it crashed describe.
  if (probe.grpc && typeof probe.grpc === 'object') setIfAbsent(obj(probe.grpc), 'service', '');
}

function defaultContainer(c: Obj) {
  if (typeof c.image === 'string') setIfAbsent(c, 'imagePullPolicy', defaultPullPolicy(c.image));
  setIfAbsent(c, 'terminationMessagePath', '/dev/termination-log');
  setIfAbsent(c, 'terminationMessagePolicy', 'File');
  for (const p of arr(c.ports)) setIfAbsent(p, 'protocol', 'TCP');
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  // Kubernetes copies limits into requests when only limits are given.
  const res = obj(c.resources);
  if (res.limits && typeof res.limits === 'object') res.requests = { ...(res.limits as Obj), ...obj(res.requests) };
}

export function defaultPodSpec(spec: Obj) {
  setIfAbsent(spec, 'restartPolicy', 'Always');
  setIfAbsent(spec, 'terminationGracePeriodSeconds', 30);
  setIfAbsent(spec, 'dnsPolicy', 'ClusterFirst');
  setIfAbsent(spec, 'schedulerName', 'default-scheduler');
  setIfAbsent(spec, 'securityContext', {});
  for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) defaultContainer(c);
}

function defaultTemplate(spec: Obj) {
  // A template or spec missing from bad input is left missing: validation reports it.
  const template = obj(spec.template);
  if (template.spec && typeof template.spec === 'object') defaultPodSpec(template.spec as Obj);
}

const DEFAULTERS: Record<string, (o: KubeObject) => void> = {
  Pod: (o) => defaultPodSpec(obj(o.spec)),
  Deployment: (o) => {
    const spec = obj(o.spec);
    setIfAbsent(spec, 'replicas', 1);
    setIfAbsent(spec, 'revisionHistoryLimit', 10);
    setIfAbsent(spec, 'progressDeadlineSeconds', 600);
    const strategy = obj(spec.strategy);
    spec.strategy = strategy;
    setIfAbsent(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const ru = obj(strategy.rollingUpdate);
      strategy.rollingUpdate = ru;
      setIfAbsent(ru, 'maxUnavailable', '25%');
      setIfAbsent(ru, 'maxSurge', '25%');
    }
    defaultTemplate(spec);
  },
  ReplicaSet: (o) => {
    const spec = obj(o.spec);
    setIfAbsent(spec, 'replicas', 1);
    defaultTemplate(spec);
  },
  Job: (o) => {
    const spec = obj(o.spec);
    if (spec.completions === undefined && spec.parallelism === undefined) {
      spec.completions = 1;
      spec.parallelism = 1;
    }
    setIfAbsent(spec, 'parallelism', 1);
    setIfAbsent(spec, 'backoffLimit', 6);
    setIfAbsent(spec, 'completionMode', 'NonIndexed');
    setIfAbsent(spec, 'suspend', false);
    defaultTemplate(spec);
  },
  Service: (o) => {
    const spec = obj(o.spec);
    setIfAbsent(spec, 'type', 'ClusterIP');
    setIfAbsent(spec, 'sessionAffinity', 'None');
    for (const p of arr(spec.ports)) {
      setIfAbsent(p, 'protocol', 'TCP');
      setIfAbsent(p, 'targetPort', p.port);
    }
  },
  Secret: (o) => {
    setIfAbsent(o as Obj, 'type', 'Opaque');
  },
  Namespace: (o) => {
    o.spec = { finalizers: ['kubernetes'], ...obj(o.spec) };
    // The name label mirrors the name; a bad name is reported once, on metadata.name, not again as a label.
    const name = o.metadata.name ?? '';
    if (dns1123Label(name).length === 0) o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': name };
  },
};

/** Applies the kind's defaults in place; the caller passes an object it owns. */
export function applyDefaults(o: KubeObject): void {
  if (o.spec !== undefined && (typeof o.spec !== 'object' || o.spec === null || Array.isArray(o.spec))) return; // validation reports the bad type
  DEFAULTERS[o.kind]?.(o);
}

/** The status a new object starts with (status is otherwise written only through the status subresource). */
export function initialStatus(o: KubeObject): Record<string, unknown> | undefined {
  switch (o.kind) {
    case 'Pod':
      return { phase: 'Pending', qosClass: qosClass(obj(o.spec)) };
    case 'Namespace':
      return { phase: 'Active' };
    case 'Deployment':
    case 'ReplicaSet':
    case 'Job':
    case 'Service':
    case 'Node':
      return {};
    default:
      return undefined;
  }
}

/** Guaranteed when every container has equal cpu and memory requests and limits; BestEffort when none has any. */
export function qosClass(spec: Obj): string {
  const containers = [...arr(spec.containers), ...arr(spec.initContainers)];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const r = obj(c.resources);
    const limits = obj(r.limits);
    const requests = obj(r.requests);
    if (Object.keys(limits).length || Object.keys(requests).length) any = true;
    for (const res of ['cpu', 'memory']) {
      if (limits[res] === undefined || (requests[res] !== undefined && requests[res] !== limits[res])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
