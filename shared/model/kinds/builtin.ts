import { podSupportProblems, templateSupportProblems } from '../pod-support.js';
import { serviceProblems } from '../service-validation.js';
import { DEFAULTERS, qosClass } from '../defaults.js';
import { COLUMNS } from '../printers.js';
import { PROTOBUF } from '../protobuf-schemas.js';
import {
  configMapSchema,
  endpointsSchema,
  eventSchema,
  namespaceSchema,
  nodeSchema,
  secretSchema,
  serviceSchema,
} from '../schemas/other-schemas.js';
import {
  deploymentSchema,
  jobSchema,
  podSchema,
  replicaSetSchema,
  replicationControllerSchema,
} from '../schemas/workload-schemas.js';
import { declareKind, scaleSub, type KindDeclaration, type Subresource } from './declaration.js';
import { foldStringData, jobSelector } from './admission-hooks.js';

/** The kinds with behaviour (controllers, the scheduler, the agent act on them): each with its hooks. */

const logSub: Subresource = { name: 'log', kind: 'Pod', group: '', version: 'v1', verbs: ['get'] };
/** `kubectl drain` evicts through it when discovery lists it (else it deletes). */
const evictionSub: Subresource = {
  name: 'eviction',
  kind: 'Eviction',
  group: 'policy',
  version: 'v1',
  verbs: ['create'],
};
/** Custom schedulers place pods through it (the only way to set spec.nodeName after create). */
const bindingSub: Subresource = { name: 'binding', kind: 'Binding', group: '', version: 'v1', verbs: ['create'] };
const empty = () => ({});

export const BUILTIN_KINDS: readonly KindDeclaration[] = [
  declareKind('Namespace', '', 'v1', 'namespaces', {
    reconciled: true,
    openApi: 'V1Namespace',
    namespaced: false,
    shortNames: ['ns'],
    status: true,
    nameIsLabel: true,
    schema: namespaceSchema,
    defaults: DEFAULTERS.Namespace,
    initialStatus: () => ({ phase: 'Active' }),
    columns: COLUMNS.Namespace,
    protobuf: PROTOBUF.Namespace,
  }),
  declareKind('Node', '', 'v1', 'nodes', {
    openApi: 'V1Node',
    namespaced: false,
    shortNames: ['no'],
    status: true,
    schema: nodeSchema,
    defaults: DEFAULTERS.Node,
    initialStatus: empty,
    columns: COLUMNS.Node,
  }),
  declareKind('Pod', '', 'v1', 'pods', {
    openApi: 'V1Pod',
    shortNames: ['po'],
    all: true,
    status: true,
    extra: [logSub, evictionSub, bindingSub],
    schema: podSchema,
    validate: (o) => podSupportProblems(o.spec, 'spec'),
    defaults: DEFAULTERS.Pod,
    initialStatus: (o) => ({ phase: 'Pending', qosClass: qosClass(o.spec) }),
    columns: COLUMNS.Pod,
  }),
  declareKind('Service', '', 'v1', 'services', {
    reconciled: true,
    openApi: 'V1Service',
    shortNames: ['svc'],
    all: true,
    status: true,
    nameIsLabel: true,
    schema: serviceSchema,
    validate: serviceProblems,
    defaults: DEFAULTERS.Service,
    initialStatus: empty,
    columns: COLUMNS.Service,
    protobuf: PROTOBUF.Service,
  }),
  declareKind('ConfigMap', '', 'v1', 'configmaps', {
    openApi: 'V1ConfigMap',
    shortNames: ['cm'],
    schema: configMapSchema,
    columns: COLUMNS.ConfigMap,
    protobuf: PROTOBUF.ConfigMap,
  }),
  declareKind('Secret', '', 'v1', 'secrets', {
    admit: foldStringData,
    openApi: 'V1Secret',
    schema: secretSchema,
    defaults: DEFAULTERS.Secret,
    columns: COLUMNS.Secret,
    protobuf: PROTOBUF.Secret,
  }),
  declareKind('Event', '', 'v1', 'events', {
    openApi: 'CoreV1Event',
    shortNames: ['ev'],
    schema: eventSchema,
    columns: COLUMNS.Event,
  }),
  declareKind('Endpoints', '', 'v1', 'endpoints', {
    openApi: 'V1Endpoints',
    shortNames: ['ep'],
    schema: endpointsSchema,
    defaults: DEFAULTERS.Endpoints,
    columns: COLUMNS.Endpoints,
  }),
  declareKind('Deployment', 'apps', 'v1', 'deployments', {
    reconciled: true,
    openApi: 'V1Deployment',
    shortNames: ['deploy'],
    all: true,
    status: true,
    extra: [scaleSub],
    schema: deploymentSchema,
    validate: templateSupportProblems,
    defaults: DEFAULTERS.Deployment,
    initialStatus: empty,
    columns: COLUMNS.Deployment,
    protobuf: PROTOBUF.Deployment,
  }),
  declareKind('ReplicaSet', 'apps', 'v1', 'replicasets', {
    reconciled: true,
    openApi: 'V1ReplicaSet',
    shortNames: ['rs'],
    all: true,
    status: true,
    extra: [scaleSub],
    schema: replicaSetSchema,
    validate: templateSupportProblems,
    defaults: DEFAULTERS.ReplicaSet,
    // ReplicaSetStatus.replicas has no omitempty: a new one answers `replicas: 0`, and typed clients
    // (the Python client's models) refuse a status without it.
    initialStatus: () => ({ replicas: 0 }),
    columns: COLUMNS.ReplicaSet,
  }),
  // The ReplicaSet controller runs it (a label-map selector; no Deployment owns one).
  declareKind('ReplicationController', '', 'v1', 'replicationcontrollers', {
    reconciled: true,
    openApi: 'V1ReplicationController',
    shortNames: ['rc'],
    all: true,
    status: true,
    extra: [scaleSub],
    schema: replicationControllerSchema,
    validate: templateSupportProblems,
    defaults: DEFAULTERS.ReplicationController,
    // As ReplicaSetStatus: replicas has no omitempty.
    initialStatus: () => ({ replicas: 0 }),
    columns: COLUMNS.ReplicationController,
  }),
  declareKind('Job', 'batch', 'v1', 'jobs', {
    admit: jobSelector,
    reconciled: true,
    openApi: 'V1Job',
    all: true,
    status: true,
    schema: jobSchema,
    validate: templateSupportProblems,
    defaults: DEFAULTERS.Job,
    initialStatus: empty,
    columns: COLUMNS.Job,
    protobuf: PROTOBUF.Job,
  }),
];
