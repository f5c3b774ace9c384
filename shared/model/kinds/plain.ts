import { cause, type StatusCause } from '../errors.js';
import { ageColumn, nameColumn, spec, status, text } from '../printers.js';
import { OBJECT_META, quantity } from '../protobuf-schemas.js';
import { isQuantity } from '../quantity.js';
import { formatLabelSelector, fromStructured, type StructuredSelector } from '../selectors.js';
import type { KubeObject } from '../types.js';
import { declareKind, type KindDeclaration } from './declaration.js';

/**
 * Kinds kumo stores, validates against Kubernetes' schema and prints, with no controller acting on
 * them yet: each is one declaration. Fields, JSON types and integer bounds come from Kubernetes'
 * OpenAPI (the field catalog); the hooks here are Kubernetes' own defaults, semantic checks
 * (pkg/apis/<group>/validation) and printer columns (pkg/printers/internalversion/printers.go).
 */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const items = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);

/** A resource list's numbers as the strings Kubernetes keeps quantities in (`pods: 10` is stored as "10"). */
function quantityStrings(list: unknown): void {
  const o = obj(list);
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' && Number.isFinite(v)) o[k] = String(v);
}

/** Every value of a resource list (`cpu: 500m`) must be a quantity, as ValidateResourceQuantityValue checks. */
function quantityCauses(list: unknown, field: string): StatusCause[] {
  return Object.entries(obj(list))
    .filter(([, v]) => !isQuantity(v))
    .map(([k, v]) =>
      cause.invalid(
        `${field}[${k}]`,
        v,
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      ),
    );
}

function oneOf(value: unknown, field: string, allowed: readonly string[]): StatusCause[] {
  return value === undefined || allowed.includes(value as string) ? [] : [cause.notSupported(field, value, allowed)];
}

/** `ResourceQuota` columns: used/hard per resource, `limits.*` in their own column (printResourceQuota). */
function quotaColumn(o: KubeObject, limits: boolean): string {
  const hard = obj(status(o).hard);
  const used = obj(status(o).used);
  return Object.keys(obj(spec(o).hard))
    .sort()
    .filter((r) => (r.split('.').length > 1 && r.split('.')[0] === 'limits') === limits)
    .map((r) => `${r}: ${text(used[r] ?? '0')}/${text(hard[r] ?? '0')}`)
    .join(', ');
}

const PREEMPTION_POLICIES = ['Never', 'PreemptLowerPriority'] as const;
/** scheduling.HighestUserDefinablePriority: above it only the system classes may go. */
const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;
const SYSTEM_PRIORITY_CLASSES = ['system-node-critical', 'system-cluster-critical'];
const LIMIT_TYPES = ['Pod', 'Container', 'PersistentVolumeClaim'] as const;
const QUOTA_SCOPES = [
  'Terminating',
  'NotTerminating',
  'BestEffort',
  'NotBestEffort',
  'PriorityClass',
  'CrossNamespacePodAffinity',
] as const;
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

export const PLAIN_KINDS: readonly KindDeclaration[] = [
  // Default accounts (namespace controller), admission with the token volume (service-accounts.ts),
  // tokens (TokenRequest), which nodes mount into pods (agent/volumes/projection.ts).
  declareKind('ServiceAccount', '', 'v1', 'serviceaccounts', {
    openApi: 'V1ServiceAccount',
    // TokenRequest: `kubectl create token` (apiserver/token-request.ts).
    extra: [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] }],
    shortNames: ['sa'],
    columns: [
      nameColumn,
      {
        name: 'Secrets',
        type: 'string',
        description: 'Secrets the service account may use.',
        cell: (o) => String(items(o.secrets).length),
      },
      ageColumn,
    ],
    protobuf: { 1: ['metadata', OBJECT_META] },
  }),

  declareKind('Lease', 'coordination.k8s.io', 'v1', 'leases', {
    openApi: 'V1Lease',
    // ValidateLeaseSpec.
    validate: (o) => {
      const s = spec(o);
      return [
        ...(typeof s.leaseDurationSeconds === 'number' && s.leaseDurationSeconds <= 0
          ? [cause.invalid('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0')]
          : []),
        ...(typeof s.leaseTransitions === 'number' && s.leaseTransitions < 0
          ? [cause.invalid('spec.leaseTransitions', s.leaseTransitions, 'must be greater than or equal to 0')]
          : []),
      ];
    },
    columns: [
      nameColumn,
      {
        name: 'Holder',
        type: 'string',
        description: 'The holder of the lease.',
        cell: (o) => text(spec(o).holderIdentity),
      },
      ageColumn,
    ],
  }),

  declareKind('PriorityClass', 'scheduling.k8s.io', 'v1', 'priorityclasses', {
    openApi: 'V1PriorityClass',
    notEnforced:
      'kumo stores PriorityClasses but does not use them yet: pods get no priority from them and none is preempted',
    namespaced: false,
    shortNames: ['pc'],
    defaults: (o) => {
      (o as Obj).preemptionPolicy ??= 'PreemptLowerPriority';
    },
    // ValidatePriorityClass: the system- prefix and values above 10^9 belong to the system classes.
    validate: (o) => {
      const name = o.metadata.name ?? '';
      const system = SYSTEM_PRIORITY_CLASSES.includes(name);
      const out: StatusCause[] = [];
      if (name.startsWith('system-') && !system)
        out.push(
          cause.forbidden(
            'metadata.name',
            "priority class names with 'system-' prefix are reserved for system use only",
          ),
        );
      if (!system && typeof o.value === 'number' && o.value > HIGHEST_USER_DEFINABLE_PRIORITY)
        out.push(
          cause.forbidden(
            'value',
            `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`,
          ),
        );
      return [...out, ...oneOf(o.preemptionPolicy, 'preemptionPolicy', PREEMPTION_POLICIES)];
    },
    columns: [
      nameColumn,
      {
        name: 'Value',
        type: 'integer',
        description: 'The priority of pods of this class.',
        cell: (o) => (typeof o.value === 'number' ? o.value : 0),
      },
      {
        name: 'Global-Default',
        type: 'boolean',
        description: 'Whether pods without a class get this one.',
        cell: (o) => o.globalDefault === true,
      },
      ageColumn,
      {
        name: 'PreemptionPolicy',
        type: 'string',
        description: 'Whether pods of this class preempt lower-priority pods.',
        cell: (o) => text(o.preemptionPolicy),
      },
    ],
    protobuf: {
      1: ['metadata', OBJECT_META],
      2: ['value', 'int?'],
      3: ['globalDefault', 'bool'],
      4: ['description', 'string'],
      5: ['preemptionPolicy', 'string'],
    },
  }),

  // Stored, not enforced: kumo has no network plugin (the README says so, as many clusters' plugins do not enforce it either).
  declareKind('NetworkPolicy', 'networking.k8s.io', 'v1', 'networkpolicies', {
    openApi: 'V1NetworkPolicy',
    notEnforced: 'kumo stores NetworkPolicies but does not enforce them: traffic between pods is not restricted',
    shortNames: ['netpol'],
    // SetDefaults_NetworkPolicy: Ingress always, Egress when egress rules are given; ports are TCP unless said.
    defaults: (o) => {
      const s = obj(o.spec);
      if (o.spec === undefined) o.spec = s;
      for (const rule of [...items(s.ingress), ...items(s.egress)])
        for (const p of items(rule.ports)) p.protocol ??= 'TCP';
      if (s.policyTypes === undefined) s.policyTypes = items(s.egress).length ? ['Ingress', 'Egress'] : ['Ingress'];
    },
    validate: (o) => {
      const s = spec(o);
      const out: StatusCause[] = [];
      (Array.isArray(s.policyTypes) ? s.policyTypes : []).forEach((t: unknown, i: number) =>
        out.push(...oneOf(t, `spec.policyTypes[${i}]`, ['Ingress', 'Egress'])),
      );
      for (const dir of ['ingress', 'egress'] as const)
        items(s[dir]).forEach((rule, i) =>
          items(rule.ports).forEach((p, j) =>
            out.push(...oneOf(p.protocol, `spec.${dir}[${i}].ports[${j}].protocol`, PROTOCOLS)),
          ),
        );
      return out;
    },
    columns: [
      nameColumn,
      {
        name: 'Pod-Selector',
        type: 'string',
        description: 'The pods the policy applies to.',
        cell: (o) => formatLabelSelector(fromStructured(spec(o).podSelector as StructuredSelector)) || '<none>',
      },
      ageColumn,
    ],
  }),

  // Stored here; admission enforces limits and quotas in a later issue.
  declareKind('LimitRange', '', 'v1', 'limitranges', {
    openApi: 'V1LimitRange',
    notEnforced:
      'kumo stores LimitRanges but does not apply them yet: pods get no defaults from them and none is refused',
    shortNames: ['limits'],
    editRoleReadOnly: true,
    // SetDefaults_LimitRangeItem: a container's default limit is the max, its default request the default limit, else the min.
    defaults: (o) => {
      for (const item of items(obj(o.spec).limits))
        for (const k of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) quantityStrings(item[k]);
      for (const item of items(obj(o.spec).limits)) {
        if (item.type !== 'Container') continue;
        const def = (item.default = obj(item.default));
        const req = (item.defaultRequest = obj(item.defaultRequest));
        for (const [k, v] of Object.entries(obj(item.max))) def[k] ??= v;
        for (const [k, v] of Object.entries(def)) req[k] ??= v;
        for (const [k, v] of Object.entries(obj(item.min))) req[k] ??= v;
        // Empty maps are left out, as Go's omitempty leaves them out of the JSON.
        if (!Object.keys(def).length) delete item.default;
        if (!Object.keys(req).length) delete item.defaultRequest;
      }
    },
    validate: (o) =>
      items(spec(o).limits).flatMap((item, i) => [
        ...oneOf(item.type, `spec.limits[${i}].type`, LIMIT_TYPES),
        ...['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'].flatMap((k) =>
          quantityCauses(item[k], `spec.limits[${i}].${k}`),
        ),
      ]),
    columns: [
      nameColumn,
      {
        name: 'Created At',
        type: 'date',
        description: 'When the object was created.',
        cell: (o) => text(o.metadata.creationTimestamp),
      },
    ],
  }),

  declareKind('ResourceQuota', '', 'v1', 'resourcequotas', {
    openApi: 'V1ResourceQuota',
    notEnforced:
      'kumo stores ResourceQuotas but does not enforce them yet: nothing is refused over quota and status.used is not computed',
    shortNames: ['quota'],
    editRoleReadOnly: true,
    status: true,
    defaults: (o) => quantityStrings(obj(o.spec).hard),
    validate: (o) => {
      const s = spec(o);
      const scopes: unknown[] = Array.isArray(s.scopes) ? s.scopes : [];
      return [
        ...quantityCauses(s.hard, 'spec.hard'),
        ...scopes.flatMap((x, i) => oneOf(x, `spec.scopes[${i}]`, QUOTA_SCOPES)),
      ];
    },
    columns: [
      nameColumn,
      ageColumn,
      {
        name: 'Request',
        type: 'string',
        description: 'Used and hard amounts of what containers request.',
        cell: (o) => quotaColumn(o, false),
      },
      {
        name: 'Limit',
        type: 'string',
        description: 'Used and hard amounts of what containers may use.',
        cell: (o) => quotaColumn(o, true),
      },
    ],
    protobuf: {
      1: ['metadata', OBJECT_META],
      2: ['spec', { 1: ['hard', { map: quantity }], 2: ['scopes', { repeated: 'string' }] }],
    },
  }),

  // Cluster IPs as Kubernetes' allocator keeps them (networking.k8s.io/v1 since 1.33): one per address,
  // named by it, written with its Service (apiserver/service-allocation.ts). Creating one reserves an address.
  declareKind('IPAddress', 'networking.k8s.io', 'v1', 'ipaddresses', {
    openApi: 'V1IPAddress',
    namespaced: false,
    shortNames: ['ip'],
    validate: (o) => {
      const name = o.metadata.name ?? '';
      const out: StatusCause[] = [];
      if (!/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(name))
        out.push(cause.invalid('metadata.name', name, 'must be a valid IP address in its canonical form'));
      const ref = obj(spec(o).parentRef);
      if (!ref.resource) out.push(cause.required('spec.parentRef.resource'));
      if (!ref.name) out.push(cause.required('spec.parentRef.name'));
      return out;
    },
    columns: [
      nameColumn,
      {
        name: 'ParentRef',
        type: 'string',
        description: 'The object the address belongs to.',
        cell: (o) => {
          const ref = obj(spec(o).parentRef);
          return [ref.resource, ref.namespace, ref.name].filter((x) => typeof x === 'string' && x).join('/');
        },
      },
      ageColumn,
    ],
  }),

  // Written by the EndpointSlice controller (controllers/endpointslices) for Services with a selector.
  declareKind('EndpointSlice', 'discovery.k8s.io', 'v1', 'endpointslices', {
    openApi: 'V1EndpointSlice',
    // Endpoints steer every node's traffic: Kubernetes' edit and admin roles only read them (CVE-2021-25740).
    editRoleReadOnly: true,
    validate: (o) => endpointSliceProblems(o),
    defaults: (o) => {
      for (const p of items((o as Obj).ports)) p.protocol ??= 'TCP';
    },
    // printEndpointSlice: ports as "80,443", the first three addresses then "+ N more...".
    columns: [
      nameColumn,
      {
        name: 'AddressType',
        type: 'string',
        description: 'Type of address.',
        cell: (o) => text((o as Obj).addressType),
      },
      {
        name: 'Ports',
        type: 'string',
        description: 'Ports of the endpoints.',
        cell: (o) => {
          const ports = items((o as Obj).ports).map((p) => (p.port === undefined ? '' : String(p.port)));
          return ports.length ? ports.join(',') : '<unset>';
        },
      },
      {
        name: 'Endpoints',
        type: 'string',
        description: 'Addresses of the endpoints.',
        cell: (o) => {
          const addresses = items((o as Obj).endpoints).flatMap((e) =>
            Array.isArray(e.addresses) ? e.addresses.map(String) : [],
          );
          if (!addresses.length) return '<unset>';
          const more = addresses.length - 3;
          return addresses.slice(0, 3).join(',') + (more > 0 ? ` + ${more} more...` : '');
        },
      },
      ageColumn,
    ],
  }),

  // Served by the offline ingress controller (shared/ingress) for its class; on AWS by the cloud controller's.
  declareKind('Ingress', 'networking.k8s.io', 'v1', 'ingresses', {
    openApi: 'V1Ingress',
    shortNames: ['ing'],
    status: true,
    validate: (o) => ingressProblems(o),
    columns: [
      nameColumn,
      {
        name: 'Class',
        type: 'string',
        description: 'The IngressClass.',
        cell: (o) => text(spec(o).ingressClassName ?? '<none>'),
      },
      {
        name: 'Hosts',
        type: 'string',
        description: 'Hosts the rules match.',
        cell: (o) =>
          items(spec(o).rules)
            .map((r) => (typeof r.host === 'string' && r.host ? r.host : '*'))
            .join(',') || '*',
      },
      {
        name: 'Address',
        type: 'string',
        description: 'Where the Ingress answers.',
        cell: (o) =>
          items(obj(status(o).loadBalancer).ingress)
            .map((i) => i.ip ?? i.hostname)
            .filter(Boolean)
            .join(','),
      },
      {
        name: 'Ports',
        type: 'string',
        description: 'Ports served.',
        cell: (o) => (items(spec(o).tls).length ? '80, 443' : '80'),
      },
      ageColumn,
    ],
  }),

  declareKind('IngressClass', 'networking.k8s.io', 'v1', 'ingressclasses', {
    openApi: 'V1IngressClass',
    namespaced: false,
    validate: (o) =>
      typeof spec(o).controller === 'string' && spec(o).controller ? [] : [cause.required('spec.controller')],
    columns: [
      nameColumn,
      {
        name: 'Controller',
        type: 'string',
        description: 'The controller that serves it.',
        cell: (o) => text(spec(o).controller),
      },
      {
        name: 'Parameters',
        type: 'string',
        description: 'Controller parameters.',
        cell: (o) => {
          const p = obj(spec(o).parameters);
          return p.kind ? `${String(p.kind)}/${String(p.name)}` : '<none>';
        },
      },
      ageColumn,
    ],
  }),
];

const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'] as const;

/** ValidateIngress (pkg/apis/networking/validation) for what users get wrong, and the backends kumo cannot serve. */
function ingressProblems(o: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const s = spec(o);
  const backend = (b: Obj, field: string) => {
    if (b.resource !== undefined)
      out.push(
        cause.forbidden(`${field}.resource`, 'kumo serves Service backends only; resource backends are not supported'),
      );
    const svc = obj(b.service);
    if (b.service === undefined) {
      if (b.resource === undefined) out.push(cause.required(`${field}.service`));
      return;
    }
    if (!svc.name) out.push(cause.required(`${field}.service.name`));
    const port = obj(svc.port);
    if (port.name !== undefined && port.number !== undefined)
      out.push(cause.invalid(`${field}.service.port`, port, 'cannot set both port name & port number'));
    else if (port.name === undefined && port.number === undefined) out.push(cause.required(`${field}.service.port`));
  };
  if (s.defaultBackend !== undefined) backend(obj(s.defaultBackend), 'spec.defaultBackend');
  if (!items(s.rules).length && s.defaultBackend === undefined)
    out.push(cause.invalid('spec.rules', [], 'either `defaultBackend` or `rules` must be specified'));
  items(s.rules).forEach((rule, i) => {
    const host = rule.host;
    if (
      typeof host === 'string' &&
      host &&
      !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(host)
    )
      out.push(
        cause.invalid(
          `spec.rules[${i}].host`,
          host,
          "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain",
        ),
      );
    items(obj(rule.http).paths).forEach((p, j) => {
      const field = `spec.rules[${i}].http.paths[${j}]`;
      if (p.pathType === undefined)
        out.push({
          reason: 'FieldValueRequired',
          message: 'Required value: pathType must be specified',
          field: `${field}.pathType`,
        });
      else out.push(...oneOf(p.pathType, `${field}.pathType`, PATH_TYPES));
      if (p.pathType !== 'ImplementationSpecific' && !(typeof p.path === 'string' && p.path.startsWith('/')))
        out.push(cause.invalid(`${field}.path`, p.path ?? '', 'must be an absolute path'));
      backend(obj(p.backend), `${field}.backend`);
    });
  });
  return out;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * ValidateEndpointSlice for what nodes act on: IPv4 addresses as addresses (not the unspecified,
 * link-local or multicast ones, ValidateNonSpecialIP; loopback stays allowed, as the process runtime's
 * pods have the node's), ports 1–65535 with a known protocol, at most 1,000 endpoints and 100 ports.
 */
function endpointSliceProblems(o: KubeObject): StatusCause[] {
  const s = o as Obj;
  const out: StatusCause[] = [];
  if (s.addressType === undefined) return [cause.required('addressType')];
  out.push(...oneOf(s.addressType, 'addressType', ['IPv4', 'IPv6', 'FQDN']));
  const endpoints = items(s.endpoints);
  if (endpoints.length > 1000) out.push(cause.tooMany('endpoints', endpoints.length, 1000));
  endpoints.forEach((e, i) => {
    const addresses = Array.isArray(e.addresses) ? e.addresses : [];
    if (addresses.length !== 1)
      out.push(cause.invalid(`endpoints[${i}].addresses`, addresses, 'must contain exactly 1 address'));
    addresses.forEach((a, j) => {
      const field = `endpoints[${i}].addresses[${j}]`;
      if (s.addressType !== 'IPv4') return;
      if (typeof a !== 'string' || !IPV4.test(a)) out.push(cause.invalid(field, a, 'must be a valid IPv4 address'));
      else if (a === '0.0.0.0') out.push(cause.invalid(field, a, 'may not be unspecified (0.0.0.0)'));
      else if (a.startsWith('169.254.'))
        out.push(cause.invalid(field, a, 'may not be in the link-local range (169.254.0.0/16)'));
      else if (Number(a.split('.')[0]) >= 224)
        out.push(cause.invalid(field, a, 'may not be a multicast or reserved address'));
    });
  });
  const ports = items(s.ports);
  if (ports.length > 100) out.push(cause.tooMany('ports', ports.length, 100));
  ports.forEach((p, i) => {
    if (
      p.port !== undefined &&
      p.port !== null &&
      !(Number.isInteger(p.port) && Number(p.port) >= 1 && Number(p.port) <= 65535)
    )
      out.push(cause.invalid(`ports[${i}].port`, p.port, 'must be between 1 and 65535, inclusive'));
    out.push(...oneOf(p.protocol, `ports[${i}].protocol`, PROTOCOLS));
  });
  return out;
}
