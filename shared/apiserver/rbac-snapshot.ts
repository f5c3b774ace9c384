import { BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES } from '../auth/bootstrap-policy.js';
import { RbacPolicy } from '../auth/rbac-policy.js';
import type { KubeObject } from '../model/types.js';
import type { Clock } from '../util/clock.js';
import { listAll } from '../store/list-all.js';
import type { ObjectStore } from '../store/store.js';
import type { GenerationStore } from '../store/generation.js';

/**
 * The RBAC objects a warm API container authorizes with, as the kube-apiserver's authorizer reads them
 * from informer caches: listed once (a cross-namespace list reads each namespace's partition), then
 * checked every `ttlMs` against the RBAC generation the change path bumps on any change (one small
 * read), and listed again only when it moved; dropped at once when this container writes one. Another
 * container's change is seen within the change path's delay plus `ttlMs`. Only requests the token's own
 * role does not settle read it, so a cluster-admin's traffic never costs a read here.
 *
 * The bootstrap ClusterRoles and bindings stand in for stored ones that are missing (a store seeded
 * before they existed, or one deleted since): kube-apiserver re-creates them at every start.
 */
/** A copy whose generation never moved is listed again after this many TTLs all the same. */
const RELIST_TTLS = 12;

export class RbacSnapshots {
  private current?: { policy: RbacPolicy; until: number; stored?: number; loadedAt: number };
  private loading?: Promise<RbacPolicy>;
  /** Bumped by this container's own writes: a load begun before one is not kept. */
  private local = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    /** Without it, a copy is listed again every `ttlMs`. */
    private readonly generations?: GenerationStore,
  ) {}

  async policy(): Promise<RbacPolicy> {
    const now = this.clock.now().getTime();
    if (this.current && this.current.until > now) return this.current.policy;
    this.loading ??= this.refresh().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /** This container wrote an RBAC object: the next request reads them again. */
  invalidate(): void {
    this.local++;
    this.current = undefined;
    this.loading = undefined;
  }

  private async refresh(): Promise<RbacPolicy> {
    const local = this.local;
    // Read before listing: a change during the listing leaves the generation ahead of the copy.
    const stored = await this.generations?.read();
    const current = this.current;
    const now = this.clock.now().getTime();
    // A bump lost on the way (a dead-lettered change) is made good by listing again now and then anyway.
    const keep =
      current && stored !== undefined && current.stored === stored && now - current.loadedAt < this.ttlMs * RELIST_TTLS;
    const policy = keep ? current.policy : await this.load();
    if (local === this.local)
      this.current = {
        policy,
        until: this.clock.now().getTime() + this.ttlMs,
        stored,
        loadedAt: keep ? current.loadedAt : now,
      };
    return policy;
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
