import type { KubeObject } from '../model/types.js';

/**
 * A reconcile's claim on a workload while it writes that workload's pods. Kubernetes keeps one
 * controller-manager and a work queue that never hands one key to two workers; here any number of
 * controller invocations may hold the same key at once, and two that read the same state would both
 * create (and collide on) the same pods. The claim is a conditional write on the object itself:
 * only one reconcile wins it, the others stand aside, and it lapses on its own if its holder dies.
 * It costs one write per reconcile that changes pods, none for the many that change nothing.
 */
export const CLAIM_ANNOTATION = 'kumo.io/reconciling';
/** Long enough for one burst of pod writes; a holder that dies blocks the key no longer than this. */
export const CLAIM_MS = 30_000;

export interface Claim {
  holder: string;
  until: number;
}

export function claimOf(o: KubeObject): Claim | undefined {
  const value = o.metadata.annotations?.[CLAIM_ANNOTATION];
  const [holder, until] = value?.split(' ') ?? [];
  const ms = Date.parse(until ?? '');
  return holder && Number.isFinite(ms) ? { holder, until: ms } : undefined;
}

/** Another reconcile holds a claim that has not lapsed. */
export function claimedByOther(o: KubeObject, holder: string, now: number): boolean {
  const c = claimOf(o);
  return !!c && c.holder !== holder && c.until > now;
}

export function withClaim<T extends KubeObject>(o: T, holder: string, until: number): T {
  return {
    ...o,
    metadata: {
      ...o.metadata,
      annotations: { ...o.metadata.annotations, [CLAIM_ANNOTATION]: `${holder} ${new Date(until).toISOString()}` },
    },
  };
}

export function withoutClaim<T extends KubeObject>(o: T): T {
  if (!o.metadata.annotations || !(CLAIM_ANNOTATION in o.metadata.annotations)) return o;
  const { [CLAIM_ANNOTATION]: _claim, ...annotations } = o.metadata.annotations;
  const { annotations: _all, ...metadata } = o.metadata;
  return { ...o, metadata: Object.keys(annotations).length ? { ...metadata, annotations } : metadata };
}
