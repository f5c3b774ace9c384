import { isPlainObject } from './json.js';
import type { KubeObject } from './types.js';
import { dns1123Label } from './names.js';

/**
 * Server-side defaulting, as Kubernetes' SetDefaults_* functions do it, so that a stored object
 * always says what will happen (restartPolicy, strategy, pull policy, ...). Mutates a copy it owns.
 */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
/** The object elements of a list; anything else in it is left for validation to report. */
const arr = (v: unknown): Obj[] =>
  Array.isArray(v) ? v.filter((x): x is Obj => !!x && typeof x === 'object' && !Array.isArray(x)) : [];
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

/** SetDefaults_HTTPGetAction: probes' and lifecycle hooks' httpGet. */
function defaultHttpGet(h: unknown) {
  if (!h || typeof h !== 'object' || Array.isArray(h)) return;
  setIfAbsent(h as Obj, 'path', '/');
  setIfAbsent(h as Obj, 'scheme', 'HTTP');
}

/** SetDefaults_ObjectFieldSelector: a fieldRef names its API version. */
function defaultFieldRef(ref: unknown) {
  if (ref && typeof ref === 'object' && !Array.isArray(ref)) setIfAbsent(ref as Obj, 'apiVersion', 'v1');
}

function defaultProbe(p: unknown) {
  if (!p || typeof p !== 'object') return;
  const probe = p as Obj;
  setIfAbsent(probe, 'timeoutSeconds', 1);
  setIfAbsent(probe, 'periodSeconds', 10);
  setIfAbsent(probe, 'successThreshold', 1);
  setIfAbsent(probe, 'failureThreshold', 3);
  defaultHttpGet(probe.httpGet);
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
  const lifecycle = obj(c.lifecycle);
  for (const hook of [lifecycle.postStart, lifecycle.preStop]) defaultHttpGet(obj(hook).httpGet);
  for (const e of arr(c.env)) defaultFieldRef(obj(e.valueFrom).fieldRef);
}

/** SetDefaults_Pod, which runs for Pods only, never for the templates of workloads. */
function defaultPodOnly(spec: Obj) {
  setIfAbsent(spec, 'enableServiceLinks', true);
  for (const c of [...arr(spec.containers), ...arr(spec.initContainers)]) {
    // Limits without requests: the requests are the limits.
    const res = obj(c.resources);
    if (res.limits && typeof res.limits === 'object') res.requests = { ...(res.limits as Obj), ...obj(res.requests) };
    // On the host network a container port is the host port.
    if (spec.hostNetwork === true) for (const p of arr(c.ports)) if (!p.hostPort) p.hostPort = p.containerPort;
  }
}

/** 0644, the file mode Kubernetes gives projected files unless told otherwise. */
const DEFAULT_MODE = 0o644;

/** Every VolumeSource field of core/v1: a volume naming none of them is an emptyDir. */
const VOLUME_SOURCES = [
  'emptyDir',
  'hostPath',
  'configMap',
  'secret',
  'downwardAPI',
  'projected',
  'persistentVolumeClaim',
  'ephemeral',
  'nfs',
  'csi',
  'image',
  'iscsi',
  'rbd',
  'azureDisk',
  'azureFile',
  'awsElasticBlockStore',
  'gcePersistentDisk',
  'gitRepo',
  'glusterfs',
  'cephfs',
  'cinder',
  'fc',
  'flocker',
  'flexVolume',
  'vsphereVolume',
  'quobyte',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
];

/** The SetDefaults_*VolumeSource functions. */
function defaultVolume(v: Obj) {
  if (!VOLUME_SOURCES.some((k) => v[k] !== undefined)) v.emptyDir = {};
  for (const k of ['configMap', 'secret', 'downwardAPI', 'projected'])
    if (v[k] && typeof v[k] === 'object') setIfAbsent(v[k] as Obj, 'defaultMode', DEFAULT_MODE);
  if (v.hostPath && typeof v.hostPath === 'object') setIfAbsent(v.hostPath as Obj, 'type', '');
  for (const item of arr(obj(v.downwardAPI).items)) defaultFieldRef(item.fieldRef);
  for (const source of arr(obj(v.projected).sources)) {
    if (source.serviceAccountToken && typeof source.serviceAccountToken === 'object')
      setIfAbsent(source.serviceAccountToken as Obj, 'expirationSeconds', 3600);
    for (const item of arr(obj(source.downwardAPI).items)) defaultFieldRef(item.fieldRef);
  }
  const claim = obj(obj(obj(v.ephemeral).volumeClaimTemplate).spec);
  if (v.ephemeral && Object.keys(claim).length) setIfAbsent(claim, 'volumeMode', 'Filesystem');
}

export function defaultPodSpec(spec: Obj) {
  setIfAbsent(spec, 'restartPolicy', 'Always');
  setIfAbsent(spec, 'terminationGracePeriodSeconds', 30);
  setIfAbsent(spec, 'dnsPolicy', 'ClusterFirst');
  setIfAbsent(spec, 'schedulerName', 'default-scheduler');
  setIfAbsent(spec, 'securityContext', {});
  for (const c of [...arr(spec.containers), ...arr(spec.initContainers), ...arr(spec.ephemeralContainers)])
    defaultContainer(c);
  for (const v of arr(spec.volumes)) defaultVolume(v);
}

function defaultTemplate(spec: Obj) {
  // A template or spec missing from bad input is left missing: validation reports it.
  const template = obj(spec.template);
  if (template.spec && typeof template.spec === 'object') defaultPodSpec(template.spec as Obj);
}

/** Kubernetes' SetDefaults_X per kind: each kind's declaration (model/kinds) names its own. */
export const DEFAULTERS = {
  Pod: (o) => {
    defaultPodSpec(obj(o.spec));
    defaultPodOnly(obj(o.spec));
  },
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
  // SetDefaults_StatefulSet, with StatefulSetAutoDeletePVC (on since 1.27): the claim retention policy is defaulted too.
  StatefulSet: (o) => {
    const spec = obj(o.spec);
    if (spec.podManagementPolicy === undefined || spec.podManagementPolicy === '')
      spec.podManagementPolicy = 'OrderedReady';
    // A value of the wrong type is validation's to refuse, not to replace.
    setIfAbsent(spec, 'updateStrategy', {});
    const strategy = spec.updateStrategy;
    if (isPlainObject(strategy)) {
      if (strategy.type === undefined || strategy.type === '') {
        strategy.type = 'RollingUpdate';
        setIfAbsent(strategy, 'rollingUpdate', {});
      }
      if (strategy.type === 'RollingUpdate' && isPlainObject(strategy.rollingUpdate))
        setIfAbsent(strategy.rollingUpdate, 'partition', 0);
    }
    setIfAbsent(spec, 'persistentVolumeClaimRetentionPolicy', {});
    const retention = spec.persistentVolumeClaimRetentionPolicy;
    if (isPlainObject(retention)) {
      if (!retention.whenDeleted) retention.whenDeleted = 'Retain';
      if (!retention.whenScaled) retention.whenScaled = 'Retain';
    }
    setIfAbsent(spec, 'replicas', 1);
    setIfAbsent(spec, 'revisionHistoryLimit', 10);
    defaultTemplate(spec);
  },
  // SetDefaults_DaemonSet: RollingUpdate with maxUnavailable 1 and maxSurge 0.
  DaemonSet: (o) => {
    const spec = obj(o.spec);
    setIfAbsent(spec, 'updateStrategy', {});
    const strategy = spec.updateStrategy;
    if (isPlainObject(strategy)) {
      if (strategy.type === undefined || strategy.type === '') strategy.type = 'RollingUpdate';
      if (strategy.type === 'RollingUpdate') {
        setIfAbsent(strategy, 'rollingUpdate', {});
        if (isPlainObject(strategy.rollingUpdate)) {
          setIfAbsent(strategy.rollingUpdate, 'maxUnavailable', 1);
          setIfAbsent(strategy.rollingUpdate, 'maxSurge', 0);
        }
      }
    }
    setIfAbsent(spec, 'revisionHistoryLimit', 10);
    defaultTemplate(spec);
  },
  // SetDefaults_ReplicationController: the selector and the object's labels come from the template's.
  ReplicationController: (o) => {
    const spec = obj(o.spec);
    const labels = obj(obj(obj(spec.template).metadata).labels);
    // Only where nothing was given: a value of the wrong type is validation's to refuse, not to replace.
    const unset = (v: unknown) => v === undefined || (isPlainObject(v) && !Object.keys(v).length);
    if (Object.keys(labels).length) {
      if (unset(spec.selector)) spec.selector = { ...labels };
      if (unset(o.metadata.labels)) o.metadata.labels = { ...labels } as Record<string, string>;
    }
    setIfAbsent(spec, 'replicas', 1);
    defaultTemplate(spec);
  },
  // SetDefaults_CronJob; the job template's pod spec is defaulted as a pod's (its Job fields are not).
  CronJob: (o) => {
    const spec = obj(o.spec);
    if (spec.concurrencyPolicy === undefined || spec.concurrencyPolicy === '') spec.concurrencyPolicy = 'Allow';
    setIfAbsent(spec, 'suspend', false);
    setIfAbsent(spec, 'successfulJobsHistoryLimit', 3);
    setIfAbsent(spec, 'failedJobsHistoryLimit', 1);
    if (isPlainObject(spec.jobTemplate) && isPlainObject(spec.jobTemplate.spec)) defaultTemplate(spec.jobTemplate.spec);
  },
  Job: (o) => {
    const spec = obj(o.spec);
    if (spec.completions === undefined && spec.parallelism === undefined) {
      spec.completions = 1;
      spec.parallelism = 1;
    }
    setIfAbsent(spec, 'parallelism', 1);
    // With a per-index limit the Job-wide one is unbounded.
    setIfAbsent(spec, 'backoffLimit', spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6);
    setIfAbsent(spec, 'completionMode', 'NonIndexed');
    setIfAbsent(spec, 'suspend', false);
    setIfAbsent(spec, 'manualSelector', false);
    // JobPodReplacementPolicy (on in 1.32): replace a pod once it is terminating, or with a pod failure policy only once it failed.
    setIfAbsent(spec, 'podReplacementPolicy', spec.podFailurePolicy !== undefined ? 'Failed' : 'TerminatingOrFailed');
    for (const rule of arr(obj(spec.podFailurePolicy).rules))
      for (const c of arr(rule.onPodConditions)) setIfAbsent(c, 'status', 'True');
    defaultTemplate(spec);
  },
  Service: (o) => {
    const spec = obj(o.spec);
    setIfAbsent(spec, 'type', 'ClusterIP');
    // clusterIPs alone names the address (normalizeClusterIPs); clusterIP alone is copied into clusterIPs on allocation.
    if (!spec.clusterIP && Array.isArray(spec.clusterIPs) && typeof spec.clusterIPs[0] === 'string')
      spec.clusterIP = spec.clusterIPs[0];
    if (spec.clusterIP === 'None') spec.clusterIPs = ['None'];
    setIfAbsent(spec, 'sessionAffinity', 'None');
    // sessionAffinityConfig belongs to ClientIP affinity: dropped otherwise, completed with the 3-hour timeout.
    if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
    else if (
      spec.sessionAffinity === 'ClientIP' &&
      obj(obj(spec.sessionAffinityConfig).clientIP).timeoutSeconds === undefined
    )
      spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
    for (const p of arr(spec.ports)) {
      setIfAbsent(p, 'protocol', 'TCP');
      if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
    }
    const external =
      spec.type === 'NodePort' ||
      spec.type === 'LoadBalancer' ||
      (spec.type === 'ClusterIP' && Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0);
    if (external) setIfAbsent(spec, 'externalTrafficPolicy', 'Cluster');
    if (spec.type !== 'ExternalName') {
      setIfAbsent(spec, 'internalTrafficPolicy', 'Cluster');
      // One address family, IPv4: what a single-stack cluster's service range gives (a headless
      // Service without a selector asks for both, as Kubernetes does).
      const headlessWithoutSelector = spec.clusterIP === 'None' && !Object.keys(obj(spec.selector)).length;
      setIfAbsent(spec, 'ipFamilyPolicy', headlessWithoutSelector ? 'RequireDualStack' : 'SingleStack');
      setIfAbsent(spec, 'ipFamilies', headlessWithoutSelector ? ['IPv4', 'IPv6'] : ['IPv4']);
    }
    if (spec.type === 'LoadBalancer') setIfAbsent(spec, 'allocateLoadBalancerNodePorts', true);
  },
  Endpoints: (o) => {
    for (const subset of arr((o as Obj).subsets)) for (const p of arr(subset.ports)) setIfAbsent(p, 'protocol', 'TCP');
  },
  Node: (o) => {
    // SetDefaults_NodeStatus: what a node can give is what it has, unless it says otherwise.
    const status = obj(o.status);
    if (status.capacity && status.allocatable === undefined) status.allocatable = { ...(status.capacity as Obj) };
  },
  Secret: (o) => {
    setIfAbsent(o as Obj, 'type', 'Opaque');
  },
  Namespace: (o) => {
    o.spec = { finalizers: ['kubernetes'], ...obj(o.spec) };
    // The name label mirrors the name; a bad name is reported once, on metadata.name, not again as a label.
    const name = o.metadata.name ?? '';
    if (dns1123Label(name).length === 0)
      o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': name };
  },
} satisfies Record<string, (o: KubeObject) => void>;

/** Guaranteed when every container has equal cpu and memory requests and limits; BestEffort when none has any. */
export function qosClass(podSpec: unknown): string {
  const spec = obj(podSpec);
  const containers = [...arr(spec.containers), ...arr(spec.initContainers)];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const r = obj(c.resources);
    const limits = obj(r.limits);
    const requests = obj(r.requests);
    if (Object.keys(limits).length || Object.keys(requests).length) any = true;
    for (const res of ['cpu', 'memory']) {
      if (limits[res] === undefined || (requests[res] !== undefined && requests[res] !== limits[res]))
        guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
