import { ConflictError, NotFoundError } from '../model/errors.js';
import { isFinished } from '../model/pod-state.js';
import {
  ANN_SELECTED_NODE,
  accessModesOf,
  bindingModeOf,
  claimNamesOf,
  classOf,
  ANN_STORAGE_PROVISIONER,
  LOCAL_PROVISIONER,
  requestedBytes,
  defaultClassOf,
  volumeNameOf,
} from '../model/storage.js';
import type { KubeObject, StoredObject } from '../model/types.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { listAll } from '../store/list-all.js';
import type { ObjectStore } from '../store/store.js';
import type { PodVolumeFacts } from './framework.js';

/**
 * The VolumeBinding plugin's PreFilter and PreBind (kube-scheduler's volumebinding): what a pod's
 * claims need of a node, read once per scheduling attempt, with the reasons a pod cannot be placed
 * at all while a claim is missing, going or unbound with Immediate binding; and, once a node is
 * chosen, the node written on each claim that binds on first consumer so the PV controller provisions
 * or binds there. The pod itself is bound when its claims are.
 */

export async function readClaimFacts(
  store: ObjectStore,
  pod: KubeObject,
): Promise<PodVolumeFacts | { problem: string } | undefined> {
  const names = claimNamesOf(pod);
  if (!names.length) return undefined;
  const namespace = pod.metadata.namespace ?? '';
  const claims = new Map(
    (await store.getMany(names.map((name) => ({ kind: 'PersistentVolumeClaim', namespace, name })))).map((c) => [
      c.metadata.name,
      c,
    ]),
  );
  // VolumeRestrictions: a ReadWriteOncePod claim serves one pod at a time, wherever that pod runs.
  const once = names.filter((n) => {
    const c = claims.get(n);
    return !!c && accessModesOf(c).includes('ReadWriteOncePod');
  });
  if (once.length) {
    const others = (await listAll(store, { kind: 'Pod', namespace })).filter(
      (p) => p.metadata.uid !== pod.metadata.uid && !!p.spec?.nodeName && !isFinished(p),
    );
    if (others.some((p) => claimNamesOf(p).some((n) => once.includes(n))))
      return {
        problem: 'node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode',
      };
  }
  const bound: KubeObject[] = [];
  const delayed: PodVolumeFacts['delayed'] = [];
  let classes: Promise<StoredObject[]> | undefined;
  for (const name of names) {
    const claim = claims.get(name);
    if (!claim) return { problem: `persistentvolumeclaim "${name}" not found` };
    if (claim.metadata.deletionTimestamp) return { problem: `persistentvolumeclaim "${name}" is being deleted` };
    const volumeName = volumeNameOf(claim);
    if (volumeName) {
      const pv = await store.get({ kind: 'PersistentVolume', namespace: '', name: volumeName });
      if (!pv)
        return { problem: `persistentvolumeclaim "${name}" bound to non-existent persistentvolume "${volumeName}"` };
      bound.push(pv);
      continue;
    }
    const className = classOf(claim);
    classes ??= listAll(store, { kind: 'StorageClass' });
    // A claim that names no class gets the default one (the binder writes it a moment later).
    const sc =
      className === undefined
        ? defaultClassOf(await classes)
        : className
          ? (await classes).find((c) => c.metadata.name === className)
          : undefined;
    if (bindingModeOf(sc) !== 'WaitForFirstConsumer')
      return { problem: 'pod has unbound immediate PersistentVolumeClaims' };
    const selectedNode = claim.metadata.annotations?.[ANN_SELECTED_NODE];
    const provisioner = (sc as Record<string, unknown> | undefined)?.provisioner;
    const topologies = (sc as StorageClass | undefined)?.allowedTopologies;
    delayed.push({
      claim,
      ...(typeof provisioner === 'string' ? { provisioner } : {}),
      ...(selectedNode ? { selectedNode } : {}),
      ...(topologies?.length ? { allowedTopologies: topologies } : {}),
    });
  }
  const candidates = delayed.length ? await listAll(store, { kind: 'PersistentVolume' }) : [];
  // Claims of other pods given a node and not provisioned yet will take room there (the capacity race).
  const promisedLocal: Record<string, number> = {};
  if (delayed.some((d) => d.provisioner === LOCAL_PROVISIONER)) {
    const mine = new Set(delayed.map((d) => d.claim.metadata.uid));
    const made = new Set(candidates.map((v) => v.metadata.name));
    for (const c of await listAll(store, { kind: 'PersistentVolumeClaim' })) {
      const node = c.metadata.annotations?.[ANN_SELECTED_NODE];
      if (!node || mine.has(c.metadata.uid) || volumeNameOf(c) || made.has(`pvc-${c.metadata.uid}`)) continue;
      const all = (await classes) ?? [];
      const named = classOf(c);
      const sc = named === undefined ? defaultClassOf(all) : all.find((x) => x.metadata.name === named);
      const provisioner =
        c.metadata.annotations?.[ANN_STORAGE_PROVISIONER] ?? (sc as Record<string, unknown> | undefined)?.provisioner;
      if (provisioner !== LOCAL_PROVISIONER) continue;
      promisedLocal[node] = (promisedLocal[node] ?? 0) + requestedBytes(c);
    }
  }
  return { bound, delayed, candidates, promisedLocal };
}

/** Writes the chosen node on each delayed claim that has none yet; false when one changed meanwhile (try again). */
export async function selectNode(store: ObjectStore, facts: PodVolumeFacts, nodeName: string): Promise<boolean> {
  for (const { claim, selectedNode } of facts.delayed) {
    if (selectedNode === nodeName) continue;
    try {
      await store.update(
        {
          ...claim,
          metadata: {
            ...claim.metadata,
            annotations: { ...claim.metadata.annotations, [ANN_SELECTED_NODE]: nodeName },
          },
        },
        claim as StoredObject,
      );
    } catch (e) {
      if (e instanceof ConflictError || e instanceof NotFoundError) return false;
      throw e;
    }
  }
  return true;
}
