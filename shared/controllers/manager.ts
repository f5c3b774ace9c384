import type { WorkQueue } from '../queue/work-queue.js';
import { DeploymentController } from './deployment/controller.js';
import { EndpointsController } from './endpoints/controller.js';
import { ServiceController } from './service/controller.js';
import type { LoadBalancerProvider } from './service/load-balancers.js';
import { GarbageCollector } from './gc/controller.js';
import { JobController } from './job/controller.js';
import { NamespaceController } from './namespace/controller.js';
import { DisruptionController } from './disruption/controller.js';
import { CronJobController } from './cronjob/controller.js';
import { AutoscalerController, type AutoscalerDeps } from './autoscaler/controller.js';
import { DaemonSetController } from './daemonset/controller.js';
import { ReplicaSetController } from './replicaset/controller.js';
import { StatefulSetController } from './statefulset/controller.js';
import { VolumeController } from './volume/controller.js';
import { ClusterRoleAggregationController } from './rbac/aggregation.js';
import type { GenerationStore } from '../store/generation.js';
import { NodeLifecycleController, type NodeLifecycleDeps } from './nodelifecycle/controller.js';
import type { ControllerDeps, ReconcileResult, Reconciler } from './types.js';
import { TerminalError } from '../model/errors.js';
import { decodeKey, type ObjectWorkKey } from '../queue/work-key.js';
import { listAll } from '../store/list-all.js';
import type { ServicesDigestStore } from '../store/services-digest.js';

/**
 * Routes controller keys (queue/work-key.ts) to their reconcilers (kube-controller-manager's role).
 * Keys of kinds without a controller yet are acknowledged and dropped.
 */
export class ControllerManager {
  private readonly replicaSets: ReplicaSetController;
  private readonly replicationControllers: ReplicaSetController;
  private readonly deployments: DeploymentController;
  private readonly statefulSets: StatefulSetController;
  private readonly daemonSets: DaemonSetController;
  private readonly cronJobs: CronJobController;
  private readonly gc: GarbageCollector;
  private readonly jobs: JobController;
  private readonly endpoints: EndpointsController;
  private readonly services: ServiceController;
  private readonly namespaces: NamespaceController;
  private readonly disruption: DisruptionController;
  private readonly volumes: VolumeController;
  private readonly clusterRoleAggregation: ClusterRoleAggregationController;
  private readonly nodeLifecycle?: NodeLifecycleController;
  private readonly autoscalers?: AutoscalerController;

  constructor(
    private readonly deps: ControllerDeps & {
      queue: WorkQueue;
      logError: (message: string, error: unknown) => void;
      /** Node leases and settings: without them nodes are never declared dead. */
      nodeLifecycle?: Pick<NodeLifecycleDeps, 'leases' | 'ledger' | 'wakeups' | 'settings'>;
      /** Where LoadBalancer Services get load balancers; without one they stay pending and say so. */
      loadBalancers?: LoadBalancerProvider;
      /** Pods' metrics and the autoscalers' memory: without them HorizontalPodAutoscalers are not evaluated. */
      autoscaling?: AutoscalerDeps;
      /** Bumped when what every node serves changes, before the nodes are woken to fetch it. */
      servicesDigest?: ServicesDigestStore;
      /** Bumped when any RBAC object changes: the API containers' copies of them are then read again. */
      rbacGeneration?: GenerationStore;
      /** The CA bundle published in every namespace as `kube-root-ca.crt` (read when first needed); without it none is. */
      rootCA?: () => string;
    },
  ) {
    if (deps.autoscaling) this.autoscalers = new AutoscalerController(deps, deps.autoscaling);
    if (deps.nodeLifecycle) this.nodeLifecycle = new NodeLifecycleController({ ...deps, ...deps.nodeLifecycle });
    this.replicaSets = new ReplicaSetController(deps);
    this.replicationControllers = new ReplicaSetController(deps, 'ReplicationController');
    this.deployments = new DeploymentController(deps);
    this.statefulSets = new StatefulSetController(deps);
    this.daemonSets = new DaemonSetController(deps);
    this.cronJobs = new CronJobController(deps);
    this.gc = new GarbageCollector(deps);
    this.jobs = new JobController(deps);
    this.endpoints = new EndpointsController(deps);
    this.services = new ServiceController(deps);
    this.namespaces = new NamespaceController(deps);
    this.disruption = new DisruptionController(deps);
    this.volumes = new VolumeController(deps);
    this.clusterRoleAggregation = new ClusterRoleAggregationController(deps);
  }

  /** Object keys, by kind, to the controller that owns that kind. Kinds without a controller are acknowledged and dropped. */
  private readonly byKind: Record<string, Reconciler<ObjectWorkKey>> = {
    ReplicaSet: { reconcile: (k) => this.replicaSets.reconcile(k) },
    ReplicationController: { reconcile: (k) => this.replicationControllers.reconcile(k) },
    Deployment: { reconcile: (k) => this.deployments.reconcile(k) },
    StatefulSet: { reconcile: (k) => this.statefulSets.reconcile(k) },
    DaemonSet: { reconcile: (k) => this.daemonSets.reconcile(k) },
    Job: { reconcile: (k) => this.jobs.reconcile(k) },
    CronJob: { reconcile: (k) => this.cronJobs.reconcile(k) },
    HorizontalPodAutoscaler: { reconcile: async (k) => (await this.autoscalers?.reconcile(k)) ?? {} },
    Namespace: { reconcile: (k) => this.namespaces.reconcile(k) },
    // A budget, or (`*`) every budget of a namespace whose pods changed.
    PodDisruptionBudget: { reconcile: (k) => this.disruption.reconcile(k) },
    // The PV controller's two halves, with claim and volume protection.
    PersistentVolumeClaim: { reconcile: (k) => this.volumes.reconcileClaim(k) },
    PersistentVolume: { reconcile: (k) => this.volumes.reconcileVolume(k) },
    // `*`: every aggregated ClusterRole, after any ClusterRole changed.
    ClusterRole: { reconcile: () => this.clusterRoleAggregation.reconcile() },
    // A Service's endpoints (the name `*` stands for every Service of the namespace) and its load balancer.
    Service: {
      reconcile: async (k) => {
        const [a, b] = [await this.endpoints.reconcile(k), await this.services.reconcile(k)];
        const after = [a.requeueAfterMs, b.requeueAfterMs].filter((x): x is number => x !== undefined);
        return after.length ? { requeueAfterMs: Math.min(...after) } : {};
      },
    },
  };

  /** Keys dropped because no retry could ever make them work (TerminalError): logged and counted. */
  droppedKeys = 0;

  private async reconcile(key: string): Promise<ReconcileResult> {
    const k = decodeKey(key);
    switch (k?.type) {
      case 'object':
        return (await this.byKind[k.kind]?.reconcile(k)) ?? {};
      case 'gc':
        return this.gc.reconcile(k);
      case 'nodeLifecycle':
        return (await this.nodeLifecycle?.reconcile()) ?? {};
      case 'daemonSets': {
        const keys = await this.daemonSets.keysOfAll();
        if (keys.length) await this.deps.queue.enqueue('controllers', keys);
        return {};
      }
      case 'pendingClaims': {
        const keys = await this.volumes.pendingClaimKeys();
        if (keys.length) await this.deps.queue.enqueue('controllers', keys);
        return {};
      }
      case 'rbacChanged':
        await this.deps.rbacGeneration?.bump();
        return {};
      case 'wakeNodes': {
        // First the digest's generation moves (a node's next fetch lists again), then the nodes wake.
        await this.deps.servicesDigest?.bump();
        // Every agent serves every Service (its proxy and DNS): each is woken to fetch them.
        const nodes = await listAll(this.deps.store, { kind: 'Node' });
        await this.deps.nodeLifecycle?.wakeups.wake(nodes.map((n) => n.metadata.name));
        return {};
      }
      default:
        throw new TerminalError(`the controller manager does not work the key ${JSON.stringify(key)}`);
    }
  }

  /** Processes keys; returns the ones to retry (with the queue's back-off). */
  async process(keys: string[]): Promise<string[]> {
    const failed: string[] = [];
    try {
      for (const key of new Set(keys)) {
        try {
          const { requeueAfterMs } = await this.reconcile(key);
          if (requeueAfterMs !== undefined) await this.deps.queue.enqueue('controllers', [key], requeueAfterMs / 1000);
        } catch (e) {
          if (e instanceof TerminalError) {
            this.droppedKeys++;
            this.deps.logError(
              `reconcile of ${key} cannot succeed; the key is dropped (${this.droppedKeys} so far)`,
              e,
            );
            continue;
          }
          this.deps.logError(`reconcile of ${key} failed; it will be retried`, e);
          failed.push(key);
        }
      }
    } finally {
      await this.deps.events.flush();
    }
    return failed;
  }
}
