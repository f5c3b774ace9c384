import type { WorkQueue } from '../queue/work-queue.js';
import { DeploymentController } from './deployment/controller.js';
import { EndpointsController } from './endpoints/controller.js';
import { GarbageCollector } from './gc/controller.js';
import { JobController } from './job/controller.js';
import { NamespaceController } from './namespace/controller.js';
import { ReplicaSetController } from './replicaset/controller.js';
import { NodeLifecycleController, type NodeLifecycleDeps } from './nodelifecycle/controller.js';
import type { ControllerDeps, ReconcileResult } from './types.js';

/**
 * Routes controller keys (`Kind/namespace/name`) to their reconcilers (kube-controller-manager's
 * role). Keys of kinds without a controller yet are acknowledged and dropped.
 */
export class ControllerManager {
  private readonly replicaSets: ReplicaSetController;
  private readonly deployments: DeploymentController;
  private readonly gc: GarbageCollector;
  private readonly jobs: JobController;
  private readonly endpoints: EndpointsController;
  private readonly namespaces: NamespaceController;
  private readonly nodeLifecycle?: NodeLifecycleController;

  constructor(
    private readonly deps: ControllerDeps & {
      queue: WorkQueue;
      logError: (message: string, error: unknown) => void;
      /** Node leases and settings: without them nodes are never declared dead. */
      nodeLifecycle?: Pick<NodeLifecycleDeps, 'leases' | 'wakeups' | 'settings'>;
    },
  ) {
    if (deps.nodeLifecycle) this.nodeLifecycle = new NodeLifecycleController({ ...deps, ...deps.nodeLifecycle });
    this.replicaSets = new ReplicaSetController(deps);
    this.deployments = new DeploymentController(deps);
    this.gc = new GarbageCollector(deps);
    this.jobs = new JobController(deps);
    this.endpoints = new EndpointsController(deps);
    this.namespaces = new NamespaceController(deps);
  }

  /** Key kind → reconciler. Keys are `Kind/namespace/name`, and `gc/Kind/namespace/name/uid` for the garbage collector. */
  private readonly routes: Record<string, (namespace: string, name: string, extra: string, uid: string) => Promise<ReconcileResult>> = {
    ReplicaSet: (ns, name) => this.replicaSets.reconcile(ns, name),
    Deployment: (ns, name) => this.deployments.reconcile(ns, name),
    Job: (ns, name) => this.jobs.reconcile(ns, name),
    Namespace: (_ns, name) => this.namespaces.reconcile(name),
    Service: (ns, name) => this.endpoints.reconcile(ns, name),
    NodeLifecycle: () => this.nodeLifecycle?.reconcile() ?? Promise.resolve({}),
    gc: (kind, ns, name, uid) => (uid ? this.gc.reconcile(kind, ns, name, uid) : Promise.resolve({})),
  };

  /** Processes keys; returns the ones to retry (with the queue's back-off). */
  async process(keys: string[]): Promise<string[]> {
    const failed: string[] = [];
    try {
      for (const key of new Set(keys)) {
        const [kind, namespace = '', name = '', extra = '', uid = ''] = key.split('/');
        const route = this.routes[kind ?? ''];
        if (!route) continue;
        try {
          const { requeueAfterMs } = await route(namespace, name, extra, uid);
          if (requeueAfterMs !== undefined) await this.deps.queue.enqueue('controllers', [key], requeueAfterMs / 1000);
        } catch (e) {
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
