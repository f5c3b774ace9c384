import { RESOURCE_TYPES } from '../model/kinds.js';
import type { RequestAttributes, Verb } from './attributes.js';
import type { Principal } from './principal.js';

/**
 * The token roles' decision, pure. Roles follow Kubernetes' default ClusterRoles bound in
 * namespaces: `view` reads everything namespaced except Secrets, `edit` also writes (Secrets included; quotas
 * and limit ranges stay read-only, as in Kubernetes' edit and admin roles), `admin` also reads and writes
 * Roles and RoleBindings (what it may grant is then bounded by the escalation check, apiserver/gate.ts);
 * none touches cluster-scoped objects or lists across namespaces. What this denies, RBAC bindings may
 * still grant (Gate.settle). Nodes get only what a kubelet
 * needs (Kubernetes' Node authorizer); the checks that depend on stored pods are returned as `check`.
 */
export type Decision =
  | { allow: true }
  | { allow: false; reason: string }
  /** Allowed only if the pod named is bound to the node. */
  | { check: 'podOnNode'; nodeName: string; namespace: string; name: string }
  /** Allowed only if a pod bound to the node refers to this ConfigMap/Secret. */
  | {
      check: 'referencedByNode';
      nodeName: string;
      kind: 'ConfigMap' | 'Secret' | 'PersistentVolumeClaim';
      namespace: string;
      name: string;
    }
  /** Allowed only if a pod bound to the node uses a claim bound to this PersistentVolume. */
  | { check: 'volumeOfNode'; nodeName: string; name: string }
  /** Allowed only if a pod bound to the node runs as this ServiceAccount (its token, for the pod's volume). */
  | { check: 'accountOfNode'; nodeName: string; namespace: string; name: string };

const ALLOW: Decision = { allow: true };
const deny = (reason: string): Decision => ({ allow: false, reason });

const READ_VERBS: ReadonlySet<Verb> = new Set(['get', 'list', 'watch']);

export function decide(p: Principal, a: RequestAttributes): Decision {
  switch (p.type) {
    case 'bootstrap':
      return a.type === 'agent' && a.action === 'credentials'
        ? ALLOW
        : deny('a bootstrap token may only obtain a node credential');
    case 'node':
      return decideNode(p.nodeName, a);
    case 'user':
      return decideUser(p, a);
  }
}

function decideUser(p: Extract<Principal, { type: 'user' }>, a: RequestAttributes): Decision {
  // As in Kubernetes, cluster-admin may do anything, the node protocol included (e.g. tools acting for a node).
  if (p.role === 'cluster-admin') return ALLOW;
  switch (a.type) {
    case 'nonResource':
      return a.verb === 'get' ? ALLOW : deny('only reads of discovery paths are allowed');
    case 'agent':
      return deny('only a node may call the node protocol');
    case 'bulkApply':
      return ALLOW; // each document is decided as a create and an update of its own resource
    case 'resource': {
      if (!a.namespaced) {
        // Reading one's own Namespace object is harmless and lets `kubectl get ns/<mine>` work.
        if (
          p.role !== 'none' &&
          a.resource === 'namespaces' &&
          a.name &&
          p.namespaces.includes(a.name) &&
          a.verb === 'get' &&
          !a.subresource
        )
          return ALLOW;
        return deny('cluster-scoped resources need the cluster-admin role');
      }
      if (a.namespace === undefined) return deny('listing across all namespaces needs the cluster-admin role');
      if (p.role === 'none') return deny('the token has no role of its own; no RBAC binding grants this either');
      if (!p.namespaces.includes(a.namespace)) return deny(`the ${p.role} role is not granted in this namespace`);
      // Placing a pod is the scheduler's (Kubernetes' edit and admin roles do not grant pods/binding):
      // a pod bound by a user would skip every filter the scheduler applies.
      if (a.resource === 'pods' && a.subresource === 'binding')
        return deny('binding pods to nodes needs the cluster-admin role');
      // Of the access reviews only LocalSubjectAccessReview is namespaced, and Kubernetes' admin role grants it.
      if (a.group === 'authorization.k8s.io')
        return p.role === 'admin' && a.resource === 'localsubjectaccessreviews'
          ? ALLOW
          : deny(`the ${p.role} role does not review others' access (the admin role does)`);
      const kind = RESOURCE_TYPES.find((t) => t.group === a.group && t.plural === a.resource);
      // Roles and RoleBindings are the admin role's: edit and view neither read nor write them.
      if (kind?.adminRoleOnly && p.role !== 'admin')
        return deny(`the ${p.role} role does not grant ${kind.plural}, as in Kubernetes (the admin role does)`);
      if (p.role === 'admin' || p.role === 'edit') {
        // A Service's status (its load balancer's addresses, which every node then listens on) is the
        // service controller's: Kubernetes' edit and admin roles do not write it.
        if (a.resource === 'services' && a.subresource === 'status' && !READ_VERBS.has(a.verb))
          return deny(`the ${p.role} role does not write a Service's status`);
        if (kind?.editRoleReadOnly && !READ_VERBS.has(a.verb))
          return deny(`the ${p.role} role only reads ${kind.plural}, as Kubernetes' edit and admin roles do`);
        return ALLOW;
      }
      // view
      if (a.resource === 'secrets') return deny('the view role does not read Secrets');
      if (!READ_VERBS.has(a.verb)) return deny('the view role only reads');
      return ALLOW;
    }
  }
}

function decideNode(nodeName: string, a: RequestAttributes): Decision {
  switch (a.type) {
    case 'nonResource':
      return a.verb === 'get' ? ALLOW : deny('only reads of discovery paths are allowed');
    case 'agent':
      if (a.action === 'credentials') return deny('a node credential cannot mint node credentials');
      return a.node === nodeName ? ALLOW : deny(`a node may only act as itself ("${nodeName}")`);
    case 'bulkApply':
      return deny('nodes may not apply objects');
    case 'resource': {
      // The Node authorizer's graph: pod → service account, for the token of the pod's projected volume.
      if (
        a.verb === 'create' &&
        a.group === '' &&
        a.resource === 'serviceaccounts' &&
        a.subresource === 'token' &&
        a.namespace &&
        a.name
      )
        return { check: 'accountOfNode', nodeName, namespace: a.namespace, name: a.name };
      if (a.verb !== 'get' || a.name === undefined) return deny('a node may only get the objects its own pods need');
      if (a.group !== '') return deny('a node may only get the objects its own pods need');
      if (a.resource === 'nodes' && !a.subresource)
        return a.name === nodeName ? ALLOW : deny(`a node may only read its own Node ("${nodeName}")`);
      if (a.resource === 'pods' && !a.subresource && a.namespace)
        return { check: 'podOnNode', nodeName, namespace: a.namespace, name: a.name };
      if (
        (a.resource === 'configmaps' || a.resource === 'secrets' || a.resource === 'persistentvolumeclaims') &&
        !a.subresource &&
        a.namespace
      )
        return {
          check: 'referencedByNode',
          nodeName,
          kind:
            a.resource === 'configmaps' ? 'ConfigMap' : a.resource === 'secrets' ? 'Secret' : 'PersistentVolumeClaim',
          namespace: a.namespace,
          name: a.name,
        };
      if (a.resource === 'persistentvolumes' && !a.subresource)
        return { check: 'volumeOfNode', nodeName, name: a.name };
      return deny('a node may only get the objects its own pods need');
    }
  }
}
