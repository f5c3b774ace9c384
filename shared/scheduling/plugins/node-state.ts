import { OK, reject, type FilterPlugin } from '../framework.js';
import { tolerates, tolerationsOf } from './taint-toleration.js';
import { TAINT_NODE_UNSCHEDULABLE } from '../../model/well-known.js';
import { isNodeReady } from '../../model/conditions.js';

/** A node must be Ready, and not cordoned (spec.unschedulable) unless the pod tolerates that. */
export const nodeState: FilterPlugin = {
  name: 'NodeState',
  filter({ pod }, { node }) {
    if (!isNodeReady(node)) return reject('node(s) were not ready');
    if (node.spec?.unschedulable === true) {
      const cordon = { key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' as const };
      if (!tolerationsOf(pod).some((t) => tolerates(t, cordon))) return reject('node(s) were unschedulable');
    }
    return OK;
  },
};
