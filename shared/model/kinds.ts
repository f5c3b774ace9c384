/** The kinds kumo serves, described once; routing, discovery, storage keys and messages all read this table. */

export interface Subresource {
  name: string;
  kind: string;
  group: string;
  version: string;
  verbs: string[];
}

export interface ResourceType {
  kind: string;
  listKind: string;
  group: string; // "" is the core group
  version: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  subresources: Subresource[];
  /** Whether the object has a `status` that only the status subresource may write. */
  hasStatus: boolean;
}

const statusSub = (kind: string, group: string, version: string): Subresource => ({
  name: 'status',
  kind,
  group,
  version,
  verbs: ['get', 'patch', 'update'],
});
const logSub: Subresource = { name: 'log', kind: 'Pod', group: '', version: 'v1', verbs: ['get'] };
/** `kubectl drain` evicts through it when discovery lists it (else it deletes). */
const evictionSub: Subresource = { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] };
/** Custom schedulers place pods through it (the only way to set spec.nodeName after create). */
const bindingSub: Subresource = { name: 'binding', kind: 'Binding', group: '', version: 'v1', verbs: ['create'] };
const scaleSub: Subresource = { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] };

function type(
  kind: string,
  group: string,
  version: string,
  plural: string,
  opts: { namespaced?: boolean; shortNames?: string[]; all?: boolean; status?: boolean; extra?: Subresource[] } = {},
): ResourceType {
  const hasStatus = opts.status ?? false;
  return {
    kind,
    listKind: `${kind}List`,
    group,
    version,
    plural,
    singular: kind.toLowerCase(),
    namespaced: opts.namespaced ?? true,
    shortNames: opts.shortNames ?? [],
    categories: opts.all ? ['all'] : [],
    subresources: [...(hasStatus ? [statusSub(kind, group, version)] : []), ...(opts.extra ?? [])],
    hasStatus,
  };
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  type('Namespace', '', 'v1', 'namespaces', { namespaced: false, shortNames: ['ns'], status: true }),
  type('Node', '', 'v1', 'nodes', { namespaced: false, shortNames: ['no'], status: true }),
  type('Pod', '', 'v1', 'pods', { shortNames: ['po'], all: true, status: true, extra: [logSub, evictionSub, bindingSub] }),
  type('Service', '', 'v1', 'services', { shortNames: ['svc'], all: true, status: true }),
  type('ConfigMap', '', 'v1', 'configmaps', { shortNames: ['cm'] }),
  type('Secret', '', 'v1', 'secrets'),
  type('Event', '', 'v1', 'events', { shortNames: ['ev'] }),
  type('Endpoints', '', 'v1', 'endpoints', { shortNames: ['ep'] }),
  type('Deployment', 'apps', 'v1', 'deployments', { shortNames: ['deploy'], all: true, status: true, extra: [scaleSub] }),
  type('ReplicaSet', 'apps', 'v1', 'replicasets', { shortNames: ['rs'], all: true, status: true, extra: [scaleSub] }),
  type('Job', 'batch', 'v1', 'jobs', { all: true, status: true }),
];

export const apiVersionOf = (t: Pick<ResourceType, 'group' | 'version'>) => (t.group ? `${t.group}/${t.version}` : t.version);

const byKind = new Map(RESOURCE_TYPES.map((t) => [`${apiVersionOf(t)}/${t.kind}`, t]));
const byResource = new Map(RESOURCE_TYPES.map((t) => [`${t.group}/${t.version}/${t.plural}`, t]));

export function typeForKind(apiVersion: string, kind: string): ResourceType | undefined {
  return byKind.get(`${apiVersion}/${kind}`);
}

export function typeForResource(group: string, version: string, plural: string): ResourceType | undefined {
  return byResource.get(`${group}/${version}/${plural}`);
}

export function typeByKindName(kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.kind === kind);
}

/** The group/version pairs served, for discovery. */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const t of RESOURCE_TYPES) seen.set(apiVersionOf(t), { group: t.group, version: t.version });
  return [...seen.values()];
}
