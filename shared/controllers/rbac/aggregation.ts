import { RbacPolicy } from '../../auth/rbac-policy.js';
import { jsonEqual } from '../../model/json.js';
import { kindNamed } from '../../model/kinds.js';
import { aggregationSelectorsOf } from '../../model/rbac.js';
import { listAll } from '../../store/list-all.js';
import type { ControllerDeps, ReconcileResult } from '../types.js';

const CLUSTER_ROLE = kindNamed('ClusterRole');

/**
 * Kubernetes' clusterrole-aggregation controller (pkg/controller/clusterroleaggregation): every
 * ClusterRole with an aggregationRule gets, as its rules, those of the ClusterRoles its selectors pick
 * (themselves resolved: admin selects edit), so `kubectl get clusterrole edit -o yaml` shows what a
 * chart's `aggregate-to-edit` role added. Any ClusterRole change brings one reconcile of them all (a
 * rare event; one list). The authorizer resolves aggregation itself (auth/rbac-policy.ts), so what it
 * grants never waits on this write.
 */
export class ClusterRoleAggregationController {
  constructor(private readonly deps: ControllerDeps) {}

  async reconcile(): Promise<ReconcileResult> {
    const roles = await listAll(this.deps.store, { kind: 'ClusterRole' });
    const policy = new RbacPolicy({ roles: [], clusterRoles: roles, roleBindings: [], clusterRoleBindings: [] });
    for (const role of roles) {
      if (!aggregationSelectorsOf(role) || role.metadata.deletionTimestamp) continue;
      const rules = policy.clusterRoleRules(role.metadata.name ?? '') ?? [];
      if (jsonEqual(role.rules ?? [], rules)) continue;
      // The rules of an aggregated role are the controller's (Kubernetes' overwrites them too): a merge
      // patch replaces the list whatever version another reconcile of this key wrote meanwhile.
      await this.deps.service.patch(CLUSTER_ROLE, '', role.metadata.name ?? '', 'merge', { rules });
    }
    return {};
  }
}
