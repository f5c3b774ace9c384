import type { KubeObject } from './types.js';
import { formatLabelSelector, fromStructured, workloadSelector } from './selectors.js';
import { nodeReadyStatus } from './conditions.js';

/**
 * The columns `kubectl get` prints, chosen by the server as kube-apiserver's printers
 * (pkg/printers/internalversion) choose them; priority-1 columns appear with `-o wide`.
 */

export interface Column {
  name: string;
  type: 'string' | 'integer' | 'date' | 'boolean';
  format?: string;
  priority?: number;
  description: string;
  cell: (o: KubeObject, now: number) => string | number | boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- printers read loosely shaped JSON; every cell has a fallback
type Any = Record<string, any>;
export const spec = (o: KubeObject) => (o.spec ?? {}) as Any;
export const status = (o: KubeObject) => (o.status ?? {}) as Any;

/** Kubernetes' duration.HumanDuration: 45s, 5m10s, 3h, 2d5h, 400d. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

const age = (o: KubeObject, now: number) =>
  o.metadata.creationTimestamp ? humanDuration(now - Date.parse(o.metadata.creationTimestamp)) : '<unknown>';
export const nameColumn: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
  cell: (o) => o.metadata.name ?? '',
};
export const ageColumn: Column = { name: 'Age', type: 'string', description: 'Time since creation.', cell: age };
/** Stored status fields are not all validated: print anything without trusting its toString. */
export const text = (v: unknown) =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
    ? String(v)
    : v === undefined || v === null
      ? ''
      : JSON.stringify(v);
export const or = (v: unknown, fallback = '<none>') => (v === undefined || v === null || v === '' ? fallback : text(v));
const containers = (t: Any | undefined) => (t?.spec?.containers ?? []) as Any[];

function podStatus(o: KubeObject): string {
  const st = status(o);
  if (o.metadata.deletionTimestamp) return 'Terminating';
  let reason = st.reason ?? st.phase ?? 'Pending';
  for (const cs of (st.containerStatuses ?? []) as Any[]) {
    if (cs.state?.waiting?.reason) reason = cs.state.waiting.reason;
    else if (cs.state?.terminated?.reason && reason !== 'Running') reason = cs.state.terminated.reason;
  }
  if (reason === 'Pending' && spec(o).nodeName) return 'ContainerCreating';
  return reason;
}

const podColumns: Column[] = [
  nameColumn,
  {
    name: 'Ready',
    type: 'string',
    description: 'Ready containers / containers.',
    cell: (o) =>
      `${((status(o).containerStatuses ?? []) as Any[]).filter((c) => c.ready).length}/${(spec(o).containers ?? []).length}`,
  },
  { name: 'Status', type: 'string', description: 'The pod phase or the reason it is not running.', cell: podStatus },
  {
    name: 'Restarts',
    type: 'string',
    description: 'Container restarts.',
    cell: (o) => String(((status(o).containerStatuses ?? []) as Any[]).reduce((n, c) => n + (c.restartCount ?? 0), 0)),
  },
  ageColumn,
  { name: 'IP', type: 'string', priority: 1, description: 'Pod IP.', cell: (o) => or(status(o).podIP) },
  {
    name: 'Node',
    type: 'string',
    priority: 1,
    description: 'The node the pod runs on.',
    cell: (o) => or(spec(o).nodeName),
  },
  {
    name: 'Nominated Node',
    type: 'string',
    priority: 1,
    description: 'Nominated node.',
    cell: (o) => or(status(o).nominatedNodeName),
  },
  { name: 'Readiness Gates', type: 'string', priority: 1, description: 'Readiness gates.', cell: () => '<none>' },
];

/** layoutContainerCells: the names and images of a pod template's containers (wide). */
const containerColumns = (template: (o: KubeObject) => Any | undefined): Column[] => [
  {
    name: 'Containers',
    type: 'string',
    priority: 1,
    description: 'Container names.',
    cell: (o) =>
      containers(template(o))
        .map((c) => c.name)
        .join(','),
  },
  {
    name: 'Images',
    type: 'string',
    priority: 1,
    description: 'Container images.',
    cell: (o) =>
      containers(template(o))
        .map((c) => c.image)
        .join(','),
  },
];

const templateColumns: Column[] = [
  ...containerColumns((o) => spec(o).template),
  {
    name: 'Selector',
    type: 'string',
    priority: 1,
    description: 'Label selector.',
    cell: (o) => or(formatLabelSelector(fromStructured(workloadSelector(o)))),
  },
];

const replicaColumns: Column[] = [
  nameColumn,
  { name: 'Desired', type: 'integer', description: 'Desired replicas.', cell: (o) => spec(o).replicas ?? 0 },
  { name: 'Current', type: 'integer', description: 'Current replicas.', cell: (o) => status(o).replicas ?? 0 },
  { name: 'Ready', type: 'integer', description: 'Ready replicas.', cell: (o) => status(o).readyReplicas ?? 0 },
  ageColumn,
  ...templateColumns,
];

const nodeStatus = (o: KubeObject) => {
  const ready = nodeReadyStatus(o);
  const s = ready === 'True' ? 'Ready' : ready === 'False' ? 'NotReady' : 'Unknown';
  return spec(o).unschedulable ? `${s},SchedulingDisabled` : s;
};

/** The built-in kinds' columns, for their declarations (model/kinds/builtin.ts). */
export const COLUMNS = {
  Pod: podColumns,
  Deployment: [
    nameColumn,
    {
      name: 'Ready',
      type: 'string',
      description: 'Ready replicas / desired.',
      cell: (o) => `${status(o).readyReplicas ?? 0}/${spec(o).replicas ?? 0}`,
    },
    {
      name: 'Up-to-date',
      type: 'integer',
      description: 'Replicas on the current template.',
      cell: (o) => status(o).updatedReplicas ?? 0,
    },
    {
      name: 'Available',
      type: 'integer',
      description: 'Available replicas.',
      cell: (o) => status(o).availableReplicas ?? 0,
    },
    ageColumn,
    ...templateColumns,
  ],
  // printStatefulSet: ready pods of the desired count, then the template's containers and images (wide).
  StatefulSet: [
    nameColumn,
    {
      name: 'Ready',
      type: 'string',
      description: 'Number of the pod with ready state',
      cell: (o) => `${text(status(o).readyReplicas ?? 0)}/${text(spec(o).replicas ?? 0)}`,
    },
    ageColumn,
    ...templateColumns.filter((c) => c.name !== 'Selector'),
  ],
  // printDaemonSet: the counts, then the template's node selector.
  DaemonSet: [
    nameColumn,
    ...(
      [
        ['Desired', 'desiredNumberScheduled', 'The desired number of daemon pods.'],
        ['Current', 'currentNumberScheduled', 'The number of nodes running at least one daemon pod.'],
        ['Ready', 'numberReady', 'The number of nodes with a ready daemon pod.'],
        ['Up-to-date', 'updatedNumberScheduled', 'The number of nodes running the current template.'],
        ['Available', 'numberAvailable', 'The number of nodes with an available daemon pod.'],
      ] as const
    ).map(([name, field, description]): Column => ({
      name,
      type: 'integer',
      description,
      cell: (o) => Number(status(o)[field] ?? 0),
    })),
    {
      name: 'Node Selector',
      type: 'string',
      description: "The node selector of the daemon set's pods.",
      cell: (o) => {
        const sel = (spec(o).template?.spec?.nodeSelector ?? {}) as Record<string, string>;
        const pairs = Object.keys(sel)
          .sort()
          .map((k) => `${k}=${text(sel[k])}`);
        return pairs.length ? pairs.join(',') : '<none>';
      },
    },
    ageColumn,
    ...templateColumns,
  ],
  // printCronJob.
  CronJob: [
    nameColumn,
    {
      name: 'Schedule',
      type: 'string',
      description: 'The schedule in Cron format.',
      cell: (o) => text(spec(o).schedule),
    },
    {
      name: 'Timezone',
      type: 'string',
      description: 'The time zone of the schedule.',
      cell: (o) => or(spec(o).timeZone),
    },
    {
      name: 'Suspend',
      type: 'boolean',
      description: 'Whether new runs are suspended.',
      cell: (o) => (spec(o).suspend === true ? 'True' : spec(o).suspend === false ? 'False' : '<unset>'),
    },
    {
      name: 'Active',
      type: 'integer',
      description: 'The number of running jobs.',
      cell: (o) => (Array.isArray(status(o).active) ? status(o).active.length : 0),
    },
    {
      name: 'Last Schedule',
      type: 'string',
      description: 'When a job was last scheduled.',
      cell: (o, now) =>
        typeof status(o).lastScheduleTime === 'string'
          ? humanDuration(now - Date.parse(status(o).lastScheduleTime))
          : '<none>',
    },
    ageColumn,
    ...containerColumns((o) => spec(o).jobTemplate?.spec?.template),
    { name: 'Selector', type: 'string', priority: 1, description: 'Label selector.', cell: () => '<none>' },
  ],
  // printControllerRevision: the controller as `<kind>.<group>/<name>`, as formatResourceName writes it.
  ControllerRevision: [
    nameColumn,
    {
      name: 'Controller',
      type: 'string',
      description: 'Controller of the object',
      cell: (o) => {
        const ref = (o.metadata.ownerReferences ?? []).find((r) => r.controller);
        if (!ref) return '<none>';
        const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
        return `${ref.kind.toLowerCase()}${group ? `.${group}` : ''}/${ref.name}`;
      },
    },
    {
      name: 'Revision',
      type: 'integer',
      description: 'Revision of the ControllerRevision',
      cell: (o) => Number(o.revision ?? 0),
    },
    ageColumn,
  ],
  // printReplicationController prints the same columns as printReplicaSet.
  ReplicationController: replicaColumns,
  ReplicaSet: replicaColumns,
  Job: [
    nameColumn,
    {
      name: 'Status',
      type: 'string',
      description: 'Job status.',
      cell: (o) => {
        const c = ((status(o).conditions ?? []) as Any[]).find(
          (x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True',
        );
        return c ? c.type : 'Running';
      },
    },
    {
      name: 'Completions',
      type: 'string',
      description: 'Succeeded / completions.',
      cell: (o) => `${status(o).succeeded ?? 0}/${spec(o).completions ?? 1}`,
    },
    {
      name: 'Duration',
      type: 'string',
      description: 'Run time.',
      cell: (o, now) =>
        status(o).startTime
          ? humanDuration(
              (status(o).completionTime ? Date.parse(status(o).completionTime) : now) - Date.parse(status(o).startTime),
            )
          : '',
    },
    ageColumn,
    ...templateColumns,
  ],
  Service: [
    nameColumn,
    { name: 'Type', type: 'string', description: 'Service type.', cell: (o) => or(spec(o).type, 'ClusterIP') },
    { name: 'Cluster-IP', type: 'string', description: 'Cluster IP.', cell: (o) => or(spec(o).clusterIP) },
    {
      name: 'External-IP',
      type: 'string',
      description: 'External IPs.',
      // getServiceExternalIP: a load balancer's addresses (<pending> until it has one), an ExternalName's name.
      cell: (o) => {
        const external = (spec(o).externalIPs ?? []) as string[];
        if (spec(o).type === 'ExternalName') return or(spec(o).externalName);
        if (spec(o).type !== 'LoadBalancer') return or(external.join(','));
        const lb = ((status(o).loadBalancer?.ingress ?? []) as Any[]).map((i) => i.ip ?? i.hostname).filter(Boolean);
        return [...lb, ...external].join(',') || '<pending>';
      },
    },
    {
      name: 'Port(s)',
      type: 'string',
      description: 'Ports.',
      cell: (o) =>
        or(
          ((spec(o).ports ?? []) as Any[])
            .map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`)
            .join(','),
        ),
    },
    ageColumn,
    {
      name: 'Selector',
      type: 'string',
      priority: 1,
      description: 'Selector.',
      cell: (o) =>
        or(
          Object.entries(spec(o).selector ?? {})
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
        ),
    },
  ],
  Node: [
    nameColumn,
    { name: 'Status', type: 'string', description: 'Node readiness.', cell: nodeStatus },
    {
      name: 'Roles',
      type: 'string',
      description: 'Node roles.',
      cell: (o) =>
        or(
          Object.keys(o.metadata.labels ?? {})
            .filter((k) => k.startsWith('node-role.kubernetes.io/'))
            .map((k) => k.slice('node-role.kubernetes.io/'.length))
            .join(','),
        ),
    },
    ageColumn,
    {
      name: 'Version',
      type: 'string',
      description: 'Agent version.',
      cell: (o) => or(status(o).nodeInfo?.kubeletVersion, ''),
    },
    {
      name: 'Internal-IP',
      type: 'string',
      priority: 1,
      description: 'Internal IP.',
      cell: (o) => or(((status(o).addresses ?? []) as Any[]).find((a) => a.type === 'InternalIP')?.address),
    },
    {
      name: 'OS-Image',
      type: 'string',
      priority: 1,
      description: 'OS image.',
      cell: (o) => or(status(o).nodeInfo?.osImage, '<unknown>'),
    },
  ],
  Endpoints: [
    nameColumn,
    {
      name: 'Endpoints',
      type: 'string',
      description: 'Ready addresses and ports.',
      cell: (o) => {
        const all = ((o.subsets ?? []) as Any[]).flatMap((ss) =>
          ((ss.addresses ?? []) as Any[]).flatMap((a) => ((ss.ports ?? []) as Any[]).map((p) => `${a.ip}:${p.port}`)),
        );
        return all.length
          ? all.slice(0, 3).join(',') + (all.length > 3 ? ` + ${all.length - 3} more...` : '')
          : '<none>';
      },
    },
    ageColumn,
  ],
  Namespace: [
    nameColumn,
    { name: 'Status', type: 'string', description: 'Phase.', cell: (o) => or(status(o).phase, 'Active') },
    ageColumn,
  ],
  ConfigMap: [
    nameColumn,
    {
      name: 'Data',
      type: 'integer',
      description: 'Keys.',
      cell: (o) => Object.keys((o.data as Any) ?? {}).length + Object.keys((o.binaryData as Any) ?? {}).length,
    },
    ageColumn,
  ],
  Secret: [
    nameColumn,
    { name: 'Type', type: 'string', description: 'Secret type.', cell: (o) => text(o.type ?? 'Opaque') },
    { name: 'Data', type: 'integer', description: 'Keys.', cell: (o) => Object.keys((o.data as Any) ?? {}).length },
    ageColumn,
  ],
  Event: [
    {
      name: 'Last Seen',
      type: 'string',
      description: 'Last seen.',
      cell: (o, now) => (o.lastTimestamp ? humanDuration(now - Date.parse(text(o.lastTimestamp))) : age(o, now)),
    },
    { name: 'Type', type: 'string', description: 'Normal or Warning.', cell: (o) => text(o.type) },
    { name: 'Reason', type: 'string', description: 'Reason.', cell: (o) => text(o.reason) },
    {
      name: 'Object',
      type: 'string',
      description: 'The object it is about.',
      cell: (o) => `${text((o.involvedObject as Any)?.kind).toLowerCase()}/${(o.involvedObject as Any)?.name ?? ''}`,
    },
    { name: 'Message', type: 'string', description: 'Message.', cell: (o) => text(o.message) },
  ],
} satisfies Record<string, Column[]>;
