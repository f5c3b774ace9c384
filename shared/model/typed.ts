import type {
  DaemonSetSpec,
  DaemonSetStatus,
  DeploymentSpec,
  DeploymentStatus,
  ReplicaSetSpec,
  ReplicaSetStatus,
  StatefulSetSpec,
  StatefulSetStatus,
} from 'kubernetes-types/apps/v1.js';
import type { CronJobSpec, CronJobStatus, JobSpec, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { NodeSpec, NodeStatus, PodSpec, PodStatus, ServiceSpec, ServiceStatus } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from './types.js';

/**
 * Typed views of stored objects, on Kubernetes' own types (kubernetes-types, generated from its
 * OpenAPI). Every object the store holds passed its kind's schema at admission (field catalog and
 * zod schemas), so reading it through its kind's type is sound: this module is where that one
 * assumption is written down, instead of a shape cast at each reader. Views are Partial because a
 * reader may hold an object from before a field existed, and absent stays absent.
 */

type View<T> = Partial<T>;
const specOf = <T>(o: KubeObject | undefined) => (o?.spec ?? {}) as View<T>;
const statusOf = <T>(o: KubeObject | undefined) => (o?.status ?? {}) as View<T>;

export const podSpec = (pod: KubeObject | undefined) => specOf<PodSpec>(pod);
export const podStatus = (pod: KubeObject | undefined) => statusOf<PodStatus>(pod);
export const nodeSpec = (node: KubeObject | undefined) => specOf<NodeSpec>(node);
export const nodeStatus = (node: KubeObject | undefined) => statusOf<NodeStatus>(node);
export const serviceSpec = (service: KubeObject | undefined) => specOf<ServiceSpec>(service);
export const serviceStatus = (service: KubeObject | undefined) => statusOf<ServiceStatus>(service);
export const deploymentStatus = (d: KubeObject | undefined) => statusOf<DeploymentStatus>(d);
export const replicaSetSpec = (rs: KubeObject | undefined) => specOf<ReplicaSetSpec>(rs);
export const daemonSetSpec = (ds: KubeObject | undefined) => specOf<DaemonSetSpec>(ds);
export const daemonSetStatus = (ds: KubeObject | undefined) => statusOf<DaemonSetStatus>(ds);
export const statefulSetSpec = (set: KubeObject | undefined) => specOf<StatefulSetSpec>(set);
export const statefulSetStatus = (set: KubeObject | undefined) => statusOf<StatefulSetStatus>(set);
export const cronJobSpec = (cj: KubeObject | undefined) => specOf<CronJobSpec>(cj);
export const cronJobStatus = (cj: KubeObject | undefined) => statusOf<CronJobStatus>(cj);
export const jobSpec = (job: KubeObject | undefined) => specOf<JobSpec>(job);
export const jobStatus = (job: KubeObject | undefined) => statusOf<JobStatus>(job);

/** The fields the workload controllers (ReplicaSet, Deployment, Job) have in common. */
export const workloadSpec = (o: KubeObject | undefined) =>
  specOf<Pick<DeploymentSpec, 'replicas' | 'selector' | 'template' | 'minReadySeconds'>>(o);
export const workloadStatus = (o: KubeObject | undefined) =>
  statusOf<Partial<DeploymentStatus & ReplicaSetStatus & JobStatus>>(o);
