import type { WorkQueue } from '../queue/work-queue.js';
import { DeploymentController } from './deployment/controller.js';
import { GarbageCollector } from './gc/controller.js';
import { NamespaceController } from './namespace/controller.js';
import { ReplicaSetController, type ControllerDeps } from './replicaset/controller.js';

/**
 * Routes controller keys (`Kind/namespace/name`) to their reconcilers (kube-controller-manager's
 * role). Keys of kinds without a controller yet are acknowledged and dropped.
 */
export class ControllerManager {
  private readonly replicaSets: ReplicaSetController;
  private readonly deployments: DeploymentController;
  private readonly gc: GarbageCollector;
  private readonly namespaces: NamespaceController;

  constructor(
    private readonly deps: ControllerDeps & { queue: WorkQueue; logError: (message: string, error: unknown) => void },
  ) {
    this.replicaSets = new ReplicaSetController(deps);
    this.deployments = new DeploymentController(deps);
    this.gc = new GarbageCollector(deps);
    this.namespaces = new NamespaceController(deps);
  }

  /** Processes keys; returns the ones to retry (with the queue's back-off). */
  async process(keys: string[]): Promise<string[]> {
    const failed: string[] = [];
    try {
      for (const key of new Set(keys)) {
        const [kind, namespace = '', name = '', extra = '', uid = ''] = key.split('/');
        const reconcile =
          kind === 'ReplicaSet'
            ? () => this.replicaSets.reconcile(namespace, name)
            : kind === 'Deployment'
              ? () => this.deployments.reconcile(namespace, name)
              : kind === 'Namespace'
                ? () => this.namespaces.reconcile(name)
                : kind === 'gc' && uid
                  ? () => this.gc.reconcile(namespace, name, extra, uid) // gc/<Kind>/<namespace>/<name>/<uid>
                  : undefined;
        if (!reconcile) continue;
        try {
          const { requeueAfterMs } = await reconcile();
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
