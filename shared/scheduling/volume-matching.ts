import { termMatches } from './plugins/node-affinity.js';
import { fromStructured, matchesLabels, type StructuredSelector } from '../model/selectors.js';
import { accessModesOf, capacityBytes, classOf, claimRefOf, phaseOf, requestedBytes } from '../model/storage.js';
import type { KubeObject } from '../model/types.js';
import type { PersistentVolumeSpec } from 'kubernetes-types/core/v1.js';

/**
 * Which PersistentVolume a claim may bind to, as Kubernetes' FindMatchingVolume
 * (component-helpers/storage/volume/pv_helpers.go) decides: a volume already reserved for this claim
 * wins; otherwise the smallest available volume of the claim's class whose access modes include the
 * claim's, whose size is enough, whose labels match the claim's selector and whose volume mode is the
 * claim's. Volumes bound or reserved for other claims, or being deleted, never match. With a node
 * (WaitForFirstConsumer), the volume's node affinity must admit it. Pure.
 */

const volumeModeOf = (o: KubeObject) => (o.spec?.volumeMode as string | undefined) ?? 'Filesystem';

/** Whether the volume's required node affinity admits the node (a volume without one is reachable anywhere). */
export function volumeFitsNode(pv: KubeObject, node: KubeObject): boolean {
  const terms = (pv.spec as PersistentVolumeSpec | undefined)?.nodeAffinity?.required?.nodeSelectorTerms;
  return !terms || terms.length === 0 || terms.some((t) => termMatches(t, node));
}

/** The claim this volume is reserved for or bound to is `claim` (by namespace and name, and uid when set). */
export function reservedFor(pv: KubeObject, claim: KubeObject): boolean {
  const ref = claimRefOf(pv);
  return (
    !!ref &&
    ref.namespace === claim.metadata.namespace &&
    ref.name === claim.metadata.name &&
    (ref.uid === undefined || ref.uid === claim.metadata.uid)
  );
}

export function findMatchingVolume<V extends KubeObject>(
  claim: KubeObject,
  volumes: readonly V[],
  node?: KubeObject,
): V | undefined {
  const wantClass = classOf(claim) ?? '';
  const wantModes = accessModesOf(claim);
  const wantBytes = requestedBytes(claim);
  const selector = claim.spec?.selector as StructuredSelector | undefined;
  let best: V | undefined;
  for (const pv of volumes) {
    if (pv.metadata.deletionTimestamp) continue;
    if (volumeModeOf(pv) !== volumeModeOf(claim)) continue;
    if (node && !volumeFitsNode(pv, node)) continue;
    const ref = claimRefOf(pv);
    if (ref && reservedFor(pv, claim)) {
      // Pre-bound to this claim: it is the one, if it is big enough and has the modes (else the claim waits).
      if (capacityBytes(pv) >= wantBytes && wantModes.every((m) => accessModesOf(pv).includes(m))) return pv;
      continue;
    }
    if (ref) continue; // another claim's
    if (phaseOf(pv) === 'Released' || phaseOf(pv) === 'Failed') continue;
    // A volume meant for a claim by name (claimRef set by the admin) was handled above; the class must match exactly.
    if ((classOf(pv) ?? '') !== wantClass) continue;
    if (selector && !matchesLabels(fromStructured(selector), pv.metadata.labels)) continue;
    if (!wantModes.every((m) => accessModesOf(pv).includes(m))) continue;
    if (capacityBytes(pv) < wantBytes) continue;
    if (!best || capacityBytes(pv) < capacityBytes(best)) best = pv;
  }
  return best;
}
