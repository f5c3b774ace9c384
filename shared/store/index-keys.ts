import { isWaitingForNode, nodeNameOf } from '../model/pod-state.js';
import type { KubeObject } from '../model/types.js';
import { shardOf } from '../util/hash.js';

/**
 * The attributes that put an object into the sparse secondary indexes. An attribute is present only
 * when the object belongs in that index, so each index holds just the objects its question is about.
 */
export interface IndexKeys {
  /** Pods bound to a node: partition = node name. */
  byNodePk?: string;
  byNodeSk?: string;
  /** Objects by their controlling owner: partition = owner uid. */
  byOwnerPk?: string;
  byOwnerSk?: string;
  /** Pods waiting for the scheduler, spread over shards so no single key takes every pending pod. */
  unscheduledPk?: string;
  unscheduledSk?: string;
}

export const UNSCHEDULED_SHARDS = 8;

export function indexKeysOf(o: KubeObject): IndexKeys {
  const ns = o.metadata.namespace ?? '';
  const name = o.metadata.name ?? '';
  const keys: IndexKeys = {};
  const owner = o.metadata.ownerReferences?.find((r) => r.controller);
  if (owner) {
    keys.byOwnerPk = owner.uid;
    keys.byOwnerSk = `${o.kind}#${ns}/${name}`;
  }
  if (o.kind === 'Pod') {
    const nodeName = nodeNameOf(o);
    if (nodeName) {
      keys.byNodePk = nodeName;
      keys.byNodeSk = `${ns}/${name}`;
    } else if (isWaitingForNode(o)) {
      keys.unscheduledPk = `unscheduled#${shardOf(`${ns}/${name}`, UNSCHEDULED_SHARDS)}`;
      keys.unscheduledSk = `${o.metadata.creationTimestamp ?? ''}#${ns}/${name}`;
    }
  }
  return keys;
}
