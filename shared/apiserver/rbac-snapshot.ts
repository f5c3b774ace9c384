import { BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES } from '../auth/bootstrap-policy.js';
import { RbacPolicy } from '../auth/rbac-policy.js';
import type { KubeObject } from '../model/types.js';
import type { Clock } from '../util/clock.js';
import { listAll } from '../store/list-all.js';
import type { ObjectStore } from '../store/store.js';

/**
 * The RBAC objects a warm API container authorizes with, as the kube-apiserver's authorizer reads them
 * from informer caches: listed once (four queries), kept for `ttlMs`, and dropped at once when this
 * container writes one. Another container's change is seen within `ttlMs`. Only requests the token's
 * own role does not settle read it, so a cluster-admin's traffic never costs a read here.
 *
 * The bootstrap ClusterRoles and bindings stand in for stored ones that are missing (a store seeded
 * before they existed, or one deleted since): kube-apiserver re-creates them at every start.
 */
export class RbacSnapshots {
  private current?: { policy: RbacPolicy; until: number };
  private loading?: Promise<RbacPolicy>;
  private generation = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  async policy(): Promise<RbacPolicy> {
    const now = this.clock.now().getTime();
    if (this.current && this.current.until > now) return this.current.policy;
    if (!this.loading) {
      const generation = this.generation;
      this.loading = this.load()
        .then((policy) => {
          if (generation === this.generation) this.current = { policy, until: this.clock.now().getTime() + this.ttlMs };
          return policy;
        })
        .finally(() => {
          this.loading = undefined;
        });
    }
    return this.loading;
  }

  /** This container wrote an RBAC object: the next request reads them again. */
  invalidate(): void {
    this.generation++;
    this.current = undefined;
    this.loading = undefined;
  }

  private async load(): Promise<RbacPolicy> {
    const [roles, clusterRoles, roleBindings, clusterRoleBindings] = await Promise.all(
      ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'].map((kind) => listAll(this.store, { kind })),
    );
    const withBootstrap = (stored: KubeObject[], builtIn: readonly KubeObject[]) => {
      const names = new Set(stored.map((o) => o.metadata.name));
      return [...stored, ...builtIn.filter((o) => !names.has(o.metadata.name))];
    };
    return new RbacPolicy({
      roles: roles ?? [],
      clusterRoles: withBootstrap(clusterRoles ?? [], BOOTSTRAP_CLUSTER_ROLES),
      roleBindings: roleBindings ?? [],
      clusterRoleBindings: withBootstrap(clusterRoleBindings ?? [], BOOTSTRAP_CLUSTER_ROLE_BINDINGS),
    });
  }
}
