import type { WorkQueue } from '../queue/work-queue.js';
import { DeploymentController } from './deployment/controller.js';
import { ReplicaSetController, type ControllerDeps } from './replicaset/controller.js';

/**
 * Routes controller keys (`Kind/namespace/name`) to their reconcilers (kube-controller-manager's
 * role). Keys of kinds without a controller yet are acknowledged and dropped.
 */
export class ControllerManager {
  private readonly replicaSets: ReplicaSetController;
  private readonly deployments: DeploymentController;

  constructor(
    private readonly deps: ControllerDeps & { queue: WorkQueue; logError: (message: string, error: unknown) => void },
  ) {
    this.replicaSets = new ReplicaSetController(deps);
    this.deployments = new DeploymentController(deps);
  }

  /** Processes keys; returns the ones to retry (with the queue's back-off). */
  async process(keys: string[]): Promise<string[]> {
    const failed: string[] = [];
    try {
      for (const key of new Set(keys)) {
        const [kind, namespace = '', name = ''] = key.split('/');
        const reconciler = kind === 'ReplicaSet' ? this.replicaSets : kind === 'Deployment' ? this.deployments : undefined;
        if (!reconciler || !name) continue;
        try {
          const { requeueAfterMs } = await reconciler.reconcile(namespace, name);
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
