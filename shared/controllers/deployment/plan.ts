import { canonical, jsonEqual } from '../../model/json.js';
import { scaledValue } from '../../model/int-or-percent.js';
import type { KubeObject } from '../../model/types.js';
import { rfc3339 } from '../../util/clock.js';
import { hashedSuffix } from '../../util/names.js';
import { LABEL_POD_TEMPLATE_HASH } from '../../model/well-known.js';

/**
 * The Deployment controller's decision, pure: one ReplicaSet per pod template (named by the
 * template's hash), rolled from old to new within maxSurge/maxUnavailable (RollingUpdate) or after
 * the old pods are gone (Recreate), with revision history, and the status `kubectl rollout status` reads.
 */

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- spec/status are validated on write; every read here has a default
type Obj = Record<string, any>;
export interface ReplicaSetView {
  rs: KubeObject & { metadata: { name: string; uid?: string } };
  /** Pods counted by the ReplicaSet's own status. */
  replicas: number;
  available: number;
  ready: number;
}

export interface DeploymentPlan {
  /** A ReplicaSet to create (the new template's), if none exists. */
  createReplicaSet?: KubeObject;
  /** New `spec.replicas` per ReplicaSet name (only the ones that change). */
  scale: Record<string, number>;
  /** A ReplicaSet that becomes current again (a rollback) takes the next revision number. */
  revision?: { replicaSet: string; revision: string };
  /** Old ReplicaSets beyond revisionHistoryLimit. */
  deleteReplicaSets: string[];
  /**
   * The revision of the current template, which the Deployment carries in its own
   * `deployment.kubernetes.io/revision` annotation as in Kubernetes: `kubectl rollout undo`
   * writes its JSON patch of `/metadata/annotations` over it. Undefined: leave it as it is.
   */
  revisionNow?: string;
  status: Obj;
}

/** Kubernetes' hash is FNV over the template; any stable short hash keeps the name-per-template rule. */
export function templateHash(template: unknown): string {
  return hashedSuffix(JSON.stringify(canonical(template)), 10, { rehash: true });
}

/** maxSurge rounds up, maxUnavailable down; both 0 would deadlock, so unavailable becomes 1. */
export function resolveSurge(d: KubeObject, replicas: number): { surge: number; unavailable: number } {
  const ru = ((d.spec as Obj)?.strategy?.rollingUpdate ?? {}) as Obj;
  // Anything that is not a number or a percent counts as the default 25 %.
  const resolve = (v: unknown, roundUp: boolean) =>
    scaledValue(v, replicas, roundUp) ?? (roundUp ? Math.ceil(replicas / 4) : Math.floor(replicas / 4));
  const surge = resolve(ru.maxSurge, true);
  let unavailable = resolve(ru.maxUnavailable, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

const revisionOf = (rs: KubeObject) => Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0);
const templateWithoutHash = (rs: KubeObject) => {
  const t = structuredClone(((rs.spec as Obj)?.template ?? {}) as Obj);
  if (t.metadata?.labels) delete t.metadata.labels[LABEL_POD_TEMPLATE_HASH];
  return t;
};

export function planDeployment(
  d: KubeObject & { metadata: { name: string; uid: string } },
  views: ReplicaSetView[],
  now: number,
): DeploymentPlan {
  const spec = (d.spec ?? {}) as Obj;
  const replicas: number = spec.replicas ?? 1;
  const template = spec.template ?? {};
  const hash = templateHash(template);
  const newView = views.find(
    (v) =>
      v.rs.metadata.labels?.[LABEL_POD_TEMPLATE_HASH] === hash ||
      jsonEqual(canonical(templateWithoutHash(v.rs)), canonical(template)),
  );
  const olds = views.filter((v) => v !== newView).sort((a, b) => revisionOf(a.rs) - revisionOf(b.rs));
  const maxRevision = Math.max(0, ...views.map((v) => revisionOf(v.rs)));
  const plan: DeploymentPlan = { scale: {}, deleteReplicaSets: [], revisionNow: String(maxRevision + 1), status: {} };
  const specReplicas = (v: ReplicaSetView) => ((v.rs.spec as Obj)?.replicas ?? 0) as number;
  const recreate = spec.strategy?.type === 'Recreate';

  let newReplicas = newView ? specReplicas(newView) : 0;
  if (!spec.paused) {
    const oldActive = olds.reduce((n, v) => n + Math.max(specReplicas(v), v.replicas), 0);
    if (recreate) {
      for (const v of olds) if (specReplicas(v) !== 0) plan.scale[v.rs.metadata.name] = 0;
      // The new template starts only when every old pod is gone.
      newReplicas = oldActive === 0 ? replicas : 0;
    } else {
      const { surge, unavailable } = resolveSurge(d, replicas);
      // Old pods count until they are actually gone, not from the moment their ReplicaSet shrinks:
      // surge is bounded by what runs at any instant, not by what is merely planned.
      const total = olds.reduce((n, v) => n + Math.max(specReplicas(v), v.replicas), 0) + newReplicas;
      if (newReplicas < replicas) newReplicas = Math.min(replicas, newReplicas + Math.max(0, replicas + surge - total));
      else if (newReplicas > replicas) newReplicas = replicas;
      // Old replicas may go as long as availability stays at replicas - maxUnavailable.
      const available = views.reduce((n, v) => n + v.available, 0);
      let canRemove = Math.max(0, available - (replicas - unavailable));
      // Old pods that are not available cost no availability: they can always go.
      for (const v of olds) {
        const current = specReplicas(v);
        if (current === 0) continue;
        const unhealthy = Math.max(0, current - v.available);
        const remove = Math.min(current, unhealthy + canRemove);
        canRemove -= Math.max(0, remove - unhealthy);
        if (remove > 0) plan.scale[v.rs.metadata.name] = current - remove;
      }
      // Never exceed replicas + maxSurge across the old and the new ReplicaSets.
      const oldAfter = olds.reduce(
        (n, v) => n + Math.max(plan.scale[v.rs.metadata.name] ?? specReplicas(v), v.replicas),
        0,
      );
      newReplicas = Math.min(newReplicas, Math.max(newView ? specReplicas(newView) : 0, replicas + surge - oldAfter));
    }
  }
  if (!newView && spec.paused) {
    // As in Kubernetes, a paused Deployment gets no ReplicaSet (and no revision) for a new template until resumed.
    plan.revisionNow = maxRevision > 0 ? String(maxRevision) : undefined;
  } else if (!newView) {
    const labels = { ...(template.metadata?.labels ?? {}), [LABEL_POD_TEMPLATE_HASH]: hash };
    plan.createReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels,
        annotations: {
          [REVISION_ANNOTATION]: String(maxRevision + 1),
          'deployment.kubernetes.io/desired-replicas': String(replicas),
        },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: d.metadata.name,
            uid: d.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        replicas: newReplicas,
        minReadySeconds: spec.minReadySeconds ?? 0,
        selector: {
          matchLabels: { ...(spec.selector?.matchLabels ?? {}), [LABEL_POD_TEMPLATE_HASH]: hash },
          ...(spec.selector?.matchExpressions ? { matchExpressions: spec.selector.matchExpressions } : {}),
        },
        template: { ...template, metadata: { ...(template.metadata ?? {}), labels } },
      },
    };
  } else {
    if (newReplicas !== specReplicas(newView)) plan.scale[newView.rs.metadata.name] = newReplicas;
    if (revisionOf(newView.rs) < maxRevision)
      plan.revision = { replicaSet: newView.rs.metadata.name, revision: String(maxRevision + 1) };
    else plan.revisionNow = String(revisionOf(newView.rs));
  }

  // Revision history: keep the newest revisionHistoryLimit old ReplicaSets that have scaled to zero.
  const limit = spec.revisionHistoryLimit ?? 10;
  const idle = olds.filter(
    (v) => specReplicas(v) === 0 && v.replicas === 0 && plan.scale[v.rs.metadata.name] === undefined,
  );
  plan.deleteReplicaSets = idle.slice(0, Math.max(0, idle.length - limit)).map((v) => v.rs.metadata.name);

  plan.status = deploymentStatus(d, newView, views, replicas, now);
  return plan;
}

function deploymentStatus(
  d: KubeObject,
  newView: ReplicaSetView | undefined,
  views: ReplicaSetView[],
  replicas: number,
  now: number,
): Obj {
  const spec = (d.spec ?? {}) as Obj;
  const prev = (d.status ?? {}) as Obj;
  const total = views.reduce((n, v) => n + v.replicas, 0);
  const available = views.reduce((n, v) => n + v.available, 0);
  const ready = views.reduce((n, v) => n + v.ready, 0);
  const updated = newView?.replicas ?? 0;
  const { unavailable } = spec.strategy?.type === 'Recreate' ? { unavailable: replicas } : resolveSurge(d, replicas);
  const stamp = rfc3339(new Date(now));
  const complete =
    updated === replicas && total === replicas && available === replicas && (newView?.available ?? 0) === replicas;
  const prevProgressing = ((prev.conditions ?? []) as Obj[]).find((c) => c.type === 'Progressing');
  const progressed = !jsonEqual(
    { updated, available, total },
    { updated: prev.updatedReplicas ?? 0, available: prev.availableReplicas ?? 0, total: prev.replicas ?? 0 },
  );
  const lastProgress = progressed || !prevProgressing ? now : Date.parse(prevProgressing.lastUpdateTime ?? stamp);
  const deadline = (spec.progressDeadlineSeconds ?? 600) * 1000;
  const progressing = complete
    ? {
        status: 'True',
        reason: 'NewReplicaSetAvailable',
        message: `ReplicaSet "${newView?.rs.metadata.name}" has successfully progressed.`,
      }
    : spec.paused
      ? { status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused' }
      : now - lastProgress > deadline
        ? {
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: `ReplicaSet "${newView?.rs.metadata.name ?? d.metadata.name}" has timed out progressing.`,
          }
        : {
            status: 'True',
            reason: 'ReplicaSetUpdated',
            message: `ReplicaSet "${newView?.rs.metadata.name ?? d.metadata.name}" is progressing.`,
          };
  const availableCond =
    available >= replicas - unavailable
      ? { status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
      : {
          status: 'False',
          reason: 'MinimumReplicasUnavailable',
          message: 'Deployment does not have minimum availability.',
        };
  const cond = (type: string, c: Obj, lastUpdate: number) => {
    const before = ((prev.conditions ?? []) as Obj[]).find((x) => x.type === type);
    const same = before && before.status === c.status && before.reason === c.reason;
    return {
      type,
      ...c,
      lastUpdateTime: same && !progressed ? before.lastUpdateTime : rfc3339(new Date(lastUpdate)),
      lastTransitionTime: same ? before.lastTransitionTime : stamp,
    };
  };
  return {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: total,
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: available,
    unavailableReplicas: Math.max(0, replicas - available),
    conditions: [cond('Available', availableCond, now), cond('Progressing', progressing, lastProgress)],
  };
}
