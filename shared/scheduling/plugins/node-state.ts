import { OK, reject, type FilterPlugin } from '../framework.js';
import { tolerates, tolerationsOf } from './taint-toleration.js';
import { TAINT_NODE_UNSCHEDULABLE } from '../../model/well-known.js';

type Condition = { type: string; status: string };

/** A node must be Ready, and not cordoned (spec.unschedulable) unless the pod tolerates that. */
export const nodeState: FilterPlugin = {
  name: 'NodeState',
  filter({ pod }, { node }) {
    const conditions = ((node.status?.conditions ?? []) as Condition[]).filter((c) => c.type === 'Ready');
    if (conditions[0]?.status !== 'True') return reject('node(s) were not ready');
    if (node.spec?.unschedulable === true) {
      const cordon = { key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' as const };
      if (!tolerationsOf(pod).some((t) => tolerates(t, cordon))) return reject('node(s) were unschedulable');
    }
    return OK;
  },
};
