import {
  ANN_LOCAL_VOLUMES_DIR,
  LOCAL_PROVISIONER,
  NO_PROVISIONER,
  localRoomOn,
  requestedBytes,
} from '../../model/storage.js';
import { OK, reject, type FilterPlugin } from '../framework.js';
import type { TopologySelectorTerm } from 'kubernetes-types/core/v1.js';
import { findMatchingVolume, volumeFitsNode } from '../volume-matching.js';

/**
 * kube-scheduler's VolumeBinding filter (pkg/scheduler/framework/plugins/volumebinding): a node must
 * satisfy the node affinity of every volume already bound to the pod's claims, and for each claim
 * that binds on first consumer it must have an unbound volume that matches or be a node the claim's
 * provisioner can make one on. The facts (claims, volumes) are read before scheduling (scheduler.ts).
 */

export const VOLUME_NODE_AFFINITY_CONFLICT = 'node(s) had volume node affinity conflict';
export const VOLUME_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
export const VOLUME_NO_ROOM = 'node(s) did not have enough free storage';

export const volumeBinding: FilterPlugin = {
  name: 'VolumeBinding',
  filter({ volumes }, { node }) {
    if (!volumes) return OK;
    if (!volumes.bound.every((pv) => volumeFitsNode(pv, node))) return reject(VOLUME_NODE_AFFINITY_CONFLICT);
    let localBytes = 0;
    for (const d of volumes.delayed) {
      // A node already chosen for this claim (by an earlier pod) is the only one it can bind on.
      if (d.selectedNode !== undefined && d.selectedNode !== node.metadata.name) return reject(VOLUME_BIND_CONFLICT);
      if (findMatchingVolume(d.claim, volumes.candidates, node)) continue;
      // checkVolumeProvisions: a class that provisions nothing (static local volumes) needs a volume here.
      if (d.provisioner === undefined || d.provisioner === '' || d.provisioner === NO_PROVISIONER)
        return reject(VOLUME_BIND_CONFLICT);
      // checkVolumeProvisions: the class provisions only where its allowedTopologies say.
      if (d.allowedTopologies && !d.allowedTopologies.some((t) => topologyMatches(t, node.metadata.labels ?? {})))
        return reject(VOLUME_BIND_CONFLICT);
      // kumo's local volumes exist only on nodes whose agent makes them; an external provisioner is trusted.
      if (d.provisioner !== LOCAL_PROVISIONER) continue;
      if (!node.metadata.annotations?.[ANN_LOCAL_VOLUMES_DIR]) return reject(VOLUME_BIND_CONFLICT);
      localBytes += requestedBytes(d.claim);
    }
    // The storage capacity check (CSIStorageCapacity's role): the node's local volumes must fit its capacity.
    const room = localBytes ? localRoomOn(node, volumes.candidates) : undefined;
    const promised = volumes.promisedLocal[node.metadata.name] ?? 0;
    if (room !== undefined && localBytes + promised > room) return reject(VOLUME_NO_ROOM);
    return OK;
  },
};

/** MatchTopologySelectorTerms for one term: every expression's key has one of its values on the node. */
function topologyMatches(term: TopologySelectorTerm, labels: Record<string, string>): boolean {
  return (term.matchLabelExpressions ?? []).every((e) => {
    const v = labels[e.key];
    return v !== undefined && e.values.includes(v);
  });
}
