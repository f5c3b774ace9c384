import { ConflictError, NotFoundError } from '../model/errors.js';
import { jsonEqual } from '../model/json.js';
import { keyOf, type KubeObject, type StoredObject } from '../model/types.js';
import type { ObjectStore } from '../store/store.js';
import { retrying } from '../util/retry.js';

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

/**
 * Removes `holder`'s claim from the object, reading it again on a conflict: a claim left behind would
 * make every reconcile stand aside until it lapses. Gone is released; after five conflicts the claim
 * is left to lapse.
 */
export async function releaseClaim(
  store: ObjectStore,
  key: { kind: string; namespace: string; name: string },
  holder: string,
): Promise<void> {
  await retrying(
    async () => {
      const o = await store.get(key);
      if (o && claimOf(o)?.holder === holder) await store.update(withoutClaim(o), o);
    },
    { retryable: (e, attempt) => e instanceof ConflictError && attempt < 4 },
  ).catch((e: unknown) => {
    if (!(e instanceof NotFoundError) && !(e instanceof ConflictError)) throw e;
  });
}

/**
 * A workload reconcile's writes: when it changes pods (`claim`), it claims the owner first; then it
 * does its work and writes the owner's status with the claim removed. Whatever fails on the way, the
 * claim is released, so no reconcile after it stands aside for a claim nobody holds. `conflict`: the
 * owner changed meanwhile (look again).
 */
export async function writeUnderClaim(
  store: ObjectStore,
  owner: StoredObject,
  holder: string,
  now: number,
  opts: { claim: boolean; work: () => Promise<void>; status: Record<string, unknown> },
): Promise<'done' | 'conflict'> {
  let latest = owner;
  if (opts.claim) {
    try {
      latest = await store.update(withClaim(owner, holder, now + CLAIM_MS), owner);
    } catch (e) {
      if (e instanceof ConflictError || e instanceof NotFoundError) return 'conflict';
      throw e;
    }
  }
  try {
    await opts.work();
    const next = withoutClaim({ ...latest, status: { ...latest.status, ...opts.status } });
    if (!jsonEqual(next, latest)) await store.update(next, latest);
    return 'done';
  } catch (e) {
    if (opts.claim) await releaseClaim(store, keyOf(owner), holder);
    if (e instanceof ConflictError || e instanceof NotFoundError) return 'conflict';
    throw e;
  }
}
